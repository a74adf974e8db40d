"""Runs points: compresses each needed image once, simulates the points in parallel, resumably.

Layout of an output directory OUT:
  OUT/sweep.json            the resolved sweep (benchmarks, base, axes, specs), for plots and reports
  OUT/images/<key>/         one image per (benchmark data, quantisation parameters): eie-compress --quiet
  OUT/points/<id>.json      one file per point: the configuration, status and eie-sim's statistics
  OUT/results.csv           one row per point (results.py)
  OUT/tmp/                  work files of running tools; removed at start and end
  OUT/slurm/                Slurm submissions: plans, shards, task logs and records (slurm.py)

Work shared between points is done once. Compression (synthetic data, pruning, k-means, encoding,
golden model) is the expensive part; eie-sim re-encodes an image for another layout (num_pes,
line width, ...) from the decoded image, which measured 5-7x cheaper than compressing again
(docs/studies.md, "How the work is shared"). So points are grouped by (benchmark data,
quantisation parameters); each group's image is compressed once at the layout most of its points
use (and once more for every other layout that SHARED_LAYOUT or more points share), and the other
points are re-encoded by eie-sim on the fly.

Each tool invocation is a subprocess; a pool of threads keeps `jobs` of them running (the threads
only wait, so the parallelism is that of the processes). With one job, points are simulated in this
process through the Python module eie_model when the build has it (docs/python.md): the same
simulation and statistics as eie-sim's, without a process start and an image parse per point
(EIE_STUDIES_SUBPROCESS=1 forces eie-sim). Several jobs keep subprocesses, since one process holds
one SystemC kernel. Every file is written to a temporary name
and renamed, so an interrupted run (Ctrl-C) leaves only complete files, and the next run skips
every point whose file exists and is valid.
"""
import collections
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from . import benchmarks, params
from .common import StudyError, atomic_directory, atomic_write_json, remove_stale_in, tool

FINAL_STATUSES = ("ok", "capacity", "mismatch")
# eie-sim re-encoding an image for another layout costs 0.2-0.3 s on the largest benchmark layers,
# compressing them again 0.8-1.5 s (measured, docs/studies.md): a layout shared by this many
# points gets an image of its own.
REENCODE_BREAK_EVEN = 4
SHARED_LAYOUT = REENCODE_BREAK_EVEN
_EXIT_STATUS = {0: "ok", 1: "mismatch", 3: "capacity"}


def _sanitizer_runtime_missing(build_dir):
    """A sanitizer build's module (EIE_SANITIZE, GCC) needs AddressSanitizer's runtime loaded before
    anything else; imported into a plain interpreter it aborts the whole process, which no except
    clause sees. Such a build then runs its points through eie-sim, unless the runtime is already
    in this process (LD_PRELOAD, as the sanitizer tests do: docs/input-safety.md)."""
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt"), errors="replace") as f:
            if "EIE_SANITIZE:BOOL=ON" not in f.read():
                return False
        with open("/proc/self/maps", errors="replace") as f:
            return not any("libasan" in line for line in f)
    except OSError:
        return False


def load_model_module():
    """The Python module eie_model from the tools' build directory, or None when that build has
    none (EIE_WITH_PYTHON off) or EIE_STUDIES_SUBPROCESS=1 asks for eie-sim."""
    if os.environ.get("EIE_STUDIES_SUBPROCESS") == "1":
        return None
    path = os.path.join(os.path.dirname(tool("eie-sim")), "python")
    if not os.path.isdir(path):
        return None
    if _sanitizer_runtime_missing(os.path.dirname(path)):
        return None
    if path not in sys.path:
        sys.path.insert(0, path)
    try:
        import eie_model
    except ImportError:
        return None
    # Another eie_model first on sys.path would be another build's.
    if os.path.dirname(os.path.abspath(eie_model.__file__)) != os.path.abspath(path):
        return None
    return eie_model


class _Children:
    """The subprocesses this run started, so Ctrl-C can stop exactly those."""

    def __init__(self):
        self.lock = threading.Lock()
        self.procs = set()
        self.stopping = False

    def run(self, cmd):
        with self.lock:
            if self.stopping:
                raise KeyboardInterrupt
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    start_new_session=True)
            self.procs.add(proc)
        try:
            out, err = proc.communicate()
        finally:
            with self.lock:
                self.procs.discard(proc)
        return proc.returncode, out, err

    def stop_all(self):
        with self.lock:
            self.stopping = True
            procs = list(self.procs)
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)  # its own session: the tool and nothing else
            except OSError:
                pass


class Progress:
    """One status line on stderr: points done/total, points/s, time left."""

    def __init__(self, label, total, skipped, quiet=False):
        self.label, self.total, self.skipped, self.quiet = label, total, skipped, quiet
        self.done = skipped
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = -1
        self.tty = sys.stderr.isatty()

    def step(self, n=1):
        self.done += n
        self.show()

    def show(self, final=False):
        if self.quiet:
            return
        now = time.monotonic()
        if not final and not self.tty and now - self.last < 2.0 and self.done < self.total:
            return
        if final and not self.tty and self.shown == self.done:
            return
        self.last, self.shown = now, self.done
        ran = self.done - self.skipped
        elapsed = now - self.start
        rate = ran / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        left_text = f"{left:.0f} s left" if left == left else "time left unknown"
        line = (f"{self.label}: {self.done}/{self.total} points done ({self.skipped} skipped), "
                f"{rate:.2f} points/s, {left_text}, {elapsed:.0f} s elapsed")
        if self.tty:
            sys.stderr.write("\r" + line + "\x1b[K" + ("\n" if final else ""))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _hash(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def _rel(path, base):
    return os.path.relpath(path, base)


def remove_partial_files(out):
    """Removes the leftovers of killed atomic writes in OUT, OUT/points and OUT/images (never
    complete files; common.remove_stale_in: only temporaries whose writer is gone)."""
    for d in (os.path.join(out, "points"), os.path.join(out, "images"), out):
        remove_stale_in(d)


def load_point(path, point_id=None):
    """A finished point's record, or None when the file is missing or not a valid record."""
    try:
        with open(path) as f:
            rec = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(rec, dict) or rec.get("status") not in FINAL_STATUSES:
        return None
    if point_id is not None and rec.get("point_id") != point_id:
        return None
    if rec["status"] != "capacity" and not isinstance(rec.get("stats"), dict):
        return None
    return rec


class _DoesNotFit(Exception):
    """eie-compress exit 3 inside the image's staging block (so nothing is published)."""


class Runner:
    """Runs points into OUT. `work_name` gives this runner a work directory of its own under
    OUT/tmp/ (a Slurm task among others sharing OUT); without it the runner owns the whole OUT.
    `record_extra` is added to every point record (where the point ran: a Slurm task id)."""

    def __init__(self, out, jobs, quiet=False, label="sweep", work_name=None, record_extra=None):
        self.out = os.path.abspath(out)
        self.jobs = max(1, int(jobs))
        self.quiet = quiet
        self.label = label
        self.children = _Children()
        self.points_dir = os.path.join(self.out, "points")
        self.images_dir = os.path.join(self.out, "images")
        self.tmp_root = os.path.join(self.out, "tmp")
        self.shared = work_name is not None
        self.tmp_dir = os.path.join(self.tmp_root, work_name) if self.shared else self.tmp_root
        self.record_extra = dict(record_extra or {})
        # In-process simulation: one point at a time only (the module takes turns on one kernel).
        self.model = load_model_module() if self.jobs == 1 else None
        self._images = {}  # image dir -> eie_model.Image, parsed once per run

    def log(self, msg):
        if not self.quiet:
            print(f"{self.label}: {msg}", file=sys.stderr, flush=True)

    def prepare(self):
        for d in (self.points_dir, self.images_dir):
            os.makedirs(d, exist_ok=True)
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        os.makedirs(self.tmp_dir)
        if not self.shared:
            remove_partial_files(self.out)

    def cleanup(self):
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        if self.shared:
            try:
                os.rmdir(self.tmp_root)  # the last task out removes OUT/tmp
            except OSError:
                pass

    def point_path(self, point):
        return os.path.join(self.points_dir, point.id + ".json")

    # ---- images
    @staticmethod
    def image_group(point):
        quant = {k: point.config[k] for k in params.quantisation_names()}
        return (point.bench, _hash({"layer": benchmarks.identity(point.spec), "quant": quant}))

    def plan_images(self, points):
        """Images to make: per (benchmark data, quantisation parameters), one at the layout most of
        its points use, plus one for every other layout used by at least SHARED_LAYOUT points (a
        compression costs about as much as REENCODE_BREAK_EVEN re-encodings, docs/studies.md);
        the remaining points are re-encoded by eie-sim. Returns [(spec, config, points)]."""
        groups = collections.OrderedDict()
        for p in points:
            groups.setdefault(self.image_group(p), []).append(p)
        layout_names = params.layout_names()
        layout_key = lambda p: _hash({k: p.config[k] for k in layout_names})
        plans = []
        for pts in groups.values():
            by_layout = collections.OrderedDict()
            for p in pts:
                by_layout.setdefault(layout_key(p), []).append(p)
            ranked = sorted(by_layout.values(), key=lambda v: -len(v))
            own = [ranked[0]] + [v for v in ranked[1:] if len(v) >= SHARED_LAYOUT]
            rest = [p for v in ranked[1:] if len(v) < SHARED_LAYOUT for p in v]
            for i, members in enumerate(own):
                config = params.defaults()
                for k in layout_names + params.quantisation_names():
                    config[k] = members[0].config[k]
                plans.append((members[0].spec, config, members + (rest if i == 0 else [])))
        return plans

    def image_dir(self, spec, config):
        keep = params.layout_names() + params.quantisation_names()
        key = _hash({"layer": benchmarks.identity(spec), "config": {k: config[k] for k in keep}})
        return os.path.join(self.images_dir, f"{spec['name']}-{key}")

    def compress(self, spec, config):
        """Compresses (or finds cached) the image of spec at config. Returns (image dir, None) or
        (None, message) when the layer does not fit that layout (eie-compress exit 3)."""
        final = self.image_dir(spec, config)
        if os.path.isfile(os.path.join(final, "manifest.json")):
            return final, None
        # replace=False: a concurrent run (another Slurm task) that made it meanwhile made one as good.
        with atomic_directory(final, replace=False, create=False) as staging:
            cmd = [tool("eie-compress")] + benchmarks.compress_args(spec) + params.set_args(
                config, params.layout_names() + params.quantisation_names()) + ["-o", staging, "--quiet"]
            rc, _, err = self.children.run(cmd)
            if rc == 3:
                raise _DoesNotFit(err.strip())
            if rc != 0:
                raise StudyError(f"eie-compress failed on benchmark {spec['name']} (exit {rc}): {err.strip()}\n"
                                 f"  command: {' '.join(cmd)}")
        return final, None

    def _compress_or_capacity(self, spec, config):
        try:
            return self.compress(spec, config)
        except _DoesNotFit as e:
            return None, str(e)

    def compress_plan(self, spec, config):
        image, msg = self._compress_or_capacity(spec, config)
        if image is None and not config["grow_memories"]:
            # The group's usual layout does not fit; grow the memories for the shared image. Points
            # that keep grow_memories false are re-encoded by eie-sim and report their own capacity.
            grown = dict(config, grow_memories=True)
            image, msg = self._compress_or_capacity(spec, grown)
        if image is None:
            raise StudyError(f"eie-compress: benchmark {spec['name']} does not fit even with grown memories: {msg}")
        return image

    # ---- points
    def simulate(self, point, image):
        # In OUT/tmp itself for every backend (point ids are unique, a point runs in one place): the
        # path is in eie-sim's command_line, which is then the same wherever the point ran.
        stats_tmp = os.path.join(self.tmp_root, point.id + ".stats.json")
        cmd = ([tool("eie-sim"), image] + params.set_args(point.config) + benchmarks.sim_args(point.spec)
               + ["--stats", stats_tmp, "--quiet"])
        if point.energy_table:
            cmd += ["--energy-table", point.energy_table]
        t0 = time.monotonic()
        if self.model is not None:
            rc, err, stats = self._simulate_in_process(point, image, cmd)
        else:
            rc, _, err = self.children.run(cmd)
            stats = None
        wall = time.monotonic() - t0
        status = _EXIT_STATUS.get(rc)
        rec = {"point_id": point.id, "benchmark": point.bench, "placement": point.placement,
               "swept": point.swept, "overrides": point.overrides, "config": point.config,
               "spec": point.spec, "status": status, "image": _rel(image, self.out),
               "reencoded": "re-encod" in err, "tool_wall_seconds": round(wall, 4),
               "message": err.strip() if rc != 0 else "", "host": socket.gethostname()}
        rec.update(self.record_extra)
        if status is None:
            try:
                os.unlink(stats_tmp)
            except OSError:
                pass
            return None, (f"eie-sim failed on point {point.id} (exit {rc}): {err.strip()}\n"
                          f"  command: {' '.join(cmd)}")
        if stats is not None:
            rec["stats"] = stats
        elif status != "capacity":
            try:
                with open(stats_tmp) as f:
                    rec["stats"] = json.load(f)
            except (OSError, ValueError) as e:
                return None, f"eie-sim wrote no readable statistics for point {point.id} ({e}); command: {' '.join(cmd)}"
            os.unlink(stats_tmp)
        else:
            rec["stats"] = None
        atomic_write_json(self.point_path(point), rec)
        return rec, None

    def _simulate_in_process(self, point, image, cmd):
        """The point through eie_model: (eie-sim's exit code, its stderr, the statistics or None),
        as the subprocess would give them; the statistics' command_line is the eie-sim command."""
        m = self.model
        sets = params.set_args(point.config)
        kw = {"set": [sets[i + 1] for i in range(0, len(sets), 2)], "energy_table": point.energy_table}
        err = []
        try:
            img = self._images.get(image)
            if img is None:
                img = self._images[image] = m.read_image(image)
            changes = m.layout_changes(img, set=kw["set"])
            if changes:
                err.append(f"eie-sim: re-encoding the image for {', '.join(f'{n}={to}' for n, _, to in changes)} "
                           f"(layout parameter{'' if len(changes) == 1 else 's'} changed)")
            if benchmarks.is_network(point.spec):
                spec = point.spec
                run = m.run_batch(img, spec["inputs"], labels=spec["labels"] or None, first=spec["first"],
                                  count=spec["count"], every=spec["every"], jobs=1, **kw)
                verdict = "" if run.bit_exact else "MISMATCH: an inference differs from the golden model"
            else:
                run = m.simulate(img, **kw)
                verdict = run.verdict
        except m.CapacityError as e:
            return 3, "\n".join(err + [f"eie-sim: {e}"]), None
        except m.InputError as e:
            return 2, "\n".join(err + [f"eie-sim: {e}"]), None
        except m.SimulationError as e:
            return 4, "\n".join(err + [f"eie-sim: internal error: {e}"]), None
        stats = dict(run.stats)
        stats["command_line"] = " ".join(cmd)
        if not run.bit_exact:
            err.append(f"eie-sim: {verdict}")
        return (0 if run.bit_exact else 1), "\n".join(err), stats

    def split_done(self, points):
        """(records of the points already done, the points still to run)."""
        records, todo = {}, []
        for p in points:
            rec = load_point(self.point_path(p), p.id)
            if rec is not None:
                records[p.id] = rec
            else:
                todo.append(p)
        return records, todo

    def make_images(self, pool, todo):
        """Compresses the images the points need (plan_images), `jobs` at a time. Returns
        {point id: image dir}."""
        plans = self.plan_images(todo)
        t0 = time.monotonic()
        futures = {pool.submit(self.compress_plan, spec, cfg): pts for spec, cfg, pts in plans}
        images = {}
        for fut in as_completed(futures):
            image = fut.result()
            for p in futures[fut]:
                images[p.id] = image
        self.log(f"{len(plans)} image(s) ready in {time.monotonic() - t0:.1f} s (one per benchmark and "
                 f"quantisation, and per layout shared by {SHARED_LAYOUT}+ points; eie-sim re-encodes "
                 "for the other layouts)")
        return images

    def simulate_points(self, pool, todo, images, progress):
        """The point runner of every backend: simulates the points (longest first), each record
        written atomically to OUT/points/. Returns (records by point id, errors)."""
        records, errors = {}, []
        order = sorted(todo, key=lambda p: -p.cost())
        futs = {pool.submit(self.simulate, p, images[p.id]): p for p in order}
        for fut in as_completed(futs):
            rec, err = fut.result()
            if rec is not None:
                records[rec["point_id"]] = rec
            else:
                errors.append(err)
            progress.step()
        progress.show(final=True)
        return records, errors

    def with_pool(self, work):
        """Calls work(pool) with a pool of `jobs` threads; on any exception or interrupt the tools
        this runner started are stopped and its work directory removed before it propagates."""
        pool = ThreadPoolExecutor(max_workers=self.jobs)
        try:
            result = work(pool)
        except BaseException:
            self.children.stop_all()
            pool.shutdown(wait=True, cancel_futures=True)
            self.cleanup()
            raise
        pool.shutdown(wait=True)
        return result

    def run(self, points):
        """Runs every point not done yet. Returns (records by point id, errors, skipped)."""
        self.prepare()
        records, todo = self.split_done(points)
        skipped = len(points) - len(todo)
        self.log(f"{len(points)} points, {skipped} already done (skipped, not recomputed), {len(todo)} to run "
                 f"on {self.jobs} parallel jobs"
                 + (" (simulated in this process by eie_model)" if self.model is not None else "")
                 + f"; output in {self.out}")
        errors = []
        if todo:
            def work(pool):
                images = self.make_images(pool, todo)
                progress = Progress(self.label, len(points), skipped, self.quiet)
                return self.simulate_points(pool, todo, images, progress)
            done, errors = self.with_pool(work)
            records.update(done)
        self.cleanup()
        return records, errors, skipped
