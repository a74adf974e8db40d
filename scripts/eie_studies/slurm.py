"""The Slurm backend of scripts/sweep: the same points, dispatched as one job array.

Submission (on the submitting host, OUT on a filesystem every node shares):
  1. the sweep is validated, Slurm is checked (the commands exist, the controller answers, the
     job is accepted: `sbatch --test-only` with the user's options), OUT is checked to hold this
     sweep and no running array; any problem is exit 2 before anything is written;
  2. the images the pending points share are compressed here, once (Runner.make_images);
  3. the pending points are dealt into shards of at most --points-per-task, balanced by cost,
     written to OUT/slurm/submit-N/plan.json (ids and images of every shard) and
     OUT/slurm/submit-N/shards/<index>.json (each point complete: spec and configuration, so a
     task never expands the whole sweep file again); one array task per shard runs
     `scripts/sweep FILE --out OUT --slurm-task OUT/slurm/submit-N`, which simulates its shard
     through the same point runner as the local backend (Runner.simulate_points: atomic
     OUT/points/<id>.json) and writes OUT/slurm/submit-N/tasks/<index>.json;
  4. the command waits (unless --no-wait), showing progress from squeue and OUT/points; Ctrl-C or
     SIGTERM cancels the array (scancel) and leaves only complete point files; at the end
     OUT/results.csv is written as by the local backend, and every failed task is named with its
     log and its points. Rerunning submits only the points still missing.

OUT/slurm/current.json names the last array (job id, submission directory), for --status and
for refusing a second submission while it runs.
"""
import collections
import json
import math
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

from . import sweep as sweep_mod
from . import sweepfile
from .common import ROOT, StudyError, atomic_write_json, atomic_write_text, build_dir, ensure_tools, load_json
from .runner import Progress, Runner, remove_partial_files

# A task of 16 points of the nine benchmark layers runs about 17 s at the measured 1.09 s per
# point (docs/studies.md, "Clusters"): long enough that scheduling and Python start-up are a
# small share, short enough to balance.
POINTS_PER_TASK = 16
POLL_SECONDS = 10.0
COMMANDS = ("sbatch", "squeue", "scancel", "sinfo")
CONTROLLER_TIMEOUT = 30  # seconds a Slurm command may take before the controller counts as not answering
# squeue's short state codes of tasks that are still to run or running (the rest have ended).
PENDING_STATES = {"PD", "CF", "RQ", "RH", "RF", "RS", "SE", "S", "ST", "RD"}
RUNNING_STATES = {"R", "CG", "SO"}


class Options:
    """The cluster options of scripts/sweep --slurm (docs/studies.md, "Clusters")."""

    def __init__(self, args):
        self.partition = args.partition
        self.account = args.account
        self.time = args.time
        self.cpus_per_task = args.cpus_per_task
        self.mem = args.mem
        self.array_max = args.array_max
        self.points_per_task = POINTS_PER_TASK if args.points_per_task is None else args.points_per_task
        self.setup = args.setup
        self.sbatch_args = list(args.sbatch_arg or [])
        self.poll = POLL_SECONDS if args.poll is None else args.poll
        for name, value, low in (("--cpus-per-task", self.cpus_per_task, 1), ("--array-max", self.array_max, 1),
                                 ("--points-per-task", self.points_per_task, 1)):
            if value is not None and value < low:
                raise StudyError(f"{name} = {value} is not allowed (an integer, at least {low})")
        if not self.poll > 0:
            raise StudyError(f"--poll = {self.poll} is not allowed (seconds, more than 0)")

    def sbatch_options(self):
        """(sbatch argument, the scripts/sweep option it came from) pairs."""
        out = []
        for opt, value in (("--partition", self.partition), ("--account", self.account), ("--time", self.time),
                           ("--cpus-per-task", self.cpus_per_task), ("--mem", self.mem)):
            if value is not None:
                out.append((f"{opt}={value}", f"{opt} {value}"))
        for a in self.sbatch_args:
            out.append((a, f"--sbatch-arg {a}"))
        return out


def _run(cmd, timeout=CONTROLLER_TIMEOUT, stdin=None):
    """Runs a Slurm command: (exit status, stdout, stderr); a missing command or a timeout is a
    StudyError naming it."""
    try:
        p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise StudyError(f"--slurm: {cmd[0]} not found on PATH: run on a host with the Slurm client commands "
                         f"({', '.join(COMMANDS)}), e.g. the cluster's login node") from None
    except subprocess.TimeoutExpired:
        raise StudyError(f"--slurm: the Slurm controller does not answer: {' '.join(cmd)} took more than "
                         f"{timeout} s") from None
    return p.returncode, p.stdout, p.stderr.strip()


def check_slurm():
    """The client commands exist and the controller answers."""
    missing = [c for c in COMMANDS if shutil.which(c) is None]
    if missing:
        raise StudyError(f"--slurm: {', '.join(missing)} not found on PATH: run on a host with the Slurm client "
                         f"commands ({', '.join(COMMANDS)}), e.g. the cluster's login node")
    rc, _, err = _run(["sinfo", "-h", "-o", "%P"])
    if rc != 0:
        raise StudyError(f"--slurm: the Slurm controller does not answer (sinfo exit {rc}): {'; '.join(err.splitlines())}")


# Words of Slurm's refusals and the option they are about; an option the user gave wins over one
# merely named ("Invalid account or account/partition combination" with --account given).
_MESSAGE_OPTIONS = (("account", "--account"), ("partition", "--partition"), ("time limit", "--time"),
                    ("--time", "--time"), ("memory", "--mem"), ("--mem", "--mem"), ("cpu", "--cpus-per-task"),
                    ("array", "--points-per-task/--array-max"))


def _which_option(message, opts):
    """The scripts/sweep option a Slurm error message is about (or all the sbatch options)."""
    low = message.lower()
    given = [g for _, g in opts.sbatch_options()]
    named = [opt for word, opt in _MESSAGE_OPTIONS if word in low]
    for opt in named:
        for g in given:
            if g.startswith(opt + " "):
                return g
    if named:
        return named[0]
    return "the sbatch options (" + ", ".join(given) + ")" if given else "the job"


def _array_spec(n_tasks, opts):
    spec = f"0-{n_tasks - 1}"
    return spec + (f"%{opts.array_max}" if opts.array_max else "")


def _sbatch_cmd(opts, name, n_tasks, log_pattern=None):
    cmd = ["sbatch", "--parsable", f"--array={_array_spec(n_tasks, opts)}", f"--job-name=eie-sweep-{name}"]
    if log_pattern:
        cmd.append(f"--output={log_pattern}")
    return cmd + [a for a, _ in opts.sbatch_options()]


def test_submission(opts, name, n_tasks):
    """sbatch --test-only with the user's options: Slurm's own refusal (unknown partition or
    account, bad time limit, too large an array, ...) comes before anything is written."""
    cmd = _sbatch_cmd(opts, name, n_tasks)
    cmd.insert(1, "--test-only")
    rc, _, err = _run(cmd, stdin="#!/bin/sh\ntrue\n")
    if rc != 0:
        msg = " ".join(err.split("\n"))
        raise StudyError(f"--slurm: {_which_option(msg, opts)}: Slurm refused the job: {msg}")


# ---- the queue

def queue_tasks(job):
    """{task index: squeue state} of the array's tasks still pending or running; None when the
    controller did not answer (so nothing is concluded from it)."""
    try:
        rc, out, err = _run(["squeue", "-h", "-r", "-j", str(job), "-o", "%i|%t"])
    except StudyError:
        return None
    if rc != 0:
        if "invalid job id" in err.lower():
            return {}  # the controller no longer knows the job: it ended long ago
        return None
    tasks = {}
    for line in out.splitlines():
        jid, _, state = line.strip().partition("|")
        head, _, idx = jid.partition("_")
        if head == str(job) and idx.isdigit():
            tasks[int(idx)] = state
    return tasks


def accounting_states(job):
    """{task index: 'STATE exit N'} from sacct when the cluster keeps accounting, else {}."""
    if shutil.which("sacct") is None:
        return {}
    try:
        rc, out, _ = _run(["sacct", "-n", "-P", "-X", "-j", str(job), "-o", "JobID,State,ExitCode"])
    except StudyError:
        return {}
    if rc != 0:
        return {}
    states = {}
    for line in out.splitlines():
        parts = line.split("|")
        if len(parts) == 3:
            head, _, idx = parts[0].partition("_")
            if head == str(job) and idx.isdigit():
                states[int(idx)] = f"{parts[1]} exit {parts[2]}"
    return states


def cancel(job, out, label):
    """scancel the array, wait until no task of it is left (at most 2 minutes), then remove the
    work files its killed tasks may have left: only complete point files stay."""
    # A second Ctrl-C must not leave the array half-cancelled: ignore both signals until done.
    old = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        _cancel(job, out, label)
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _cancel(job, out, label):
    _run(["scancel", str(job)])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        tasks = queue_tasks(job)
        if tasks == {}:
            break
        time.sleep(0.5)
    remove_partial_files(out)
    shutil.rmtree(os.path.join(out, "tmp"), ignore_errors=True)
    print(f"{label}: cancelled Slurm job {job} (scancel); finished points are kept", file=sys.stderr, flush=True)


# ---- submissions

def current_path(out):
    return os.path.join(out, "slurm", "current.json")


def current(out):
    path = current_path(out)
    if not os.path.exists(path):
        return None
    rec = load_json(path, "Slurm submission record")
    if not isinstance(rec, dict) or "job" not in rec or "dir" not in rec:
        raise StudyError(f"{path}: not a Slurm submission record of scripts/sweep (fields job, dir)")
    return rec


def _shards(todo, per_task):
    """Points dealt into ceil(n / per_task) shards, longest first in snake order, so every shard
    gets about the same number of points and the same work."""
    n = max(1, math.ceil(len(todo) / per_task))
    shards = [[] for _ in range(n)]
    order = sorted(todo, key=lambda p: -p.cost())
    for i, p in enumerate(order):
        lap, pos = divmod(i, n)
        shards[pos if lap % 2 == 0 else n - 1 - pos].append(p)
    return shards


def _next_submit_dir(out):
    base = os.path.join(out, "slurm")
    os.makedirs(base, exist_ok=True)
    n = 1
    while os.path.exists(os.path.join(base, f"submit-{n}")):
        n += 1
    return os.path.join(base, f"submit-{n}")


def _task_script(sweep_path, out, subdir, opts):
    python = sys.executable if os.path.basename(sys.executable).startswith("python3") else "/usr/bin/python3"
    lines = ["#!/bin/bash",
             "# One task of a scripts/sweep --slurm job array: runs its shard of the sweep's points.",
             f"export EIE_BUILD_DIR={shlex.quote(build_dir())}"]
    if opts.setup:
        lines += ["# --setup", opts.setup]
    lines.append(" ".join(shlex.quote(a) for a in [python, os.path.join(ROOT, "scripts", "sweep"),
                                                      os.path.abspath(sweep_path), "--out", out,
                                                      "--slurm-task", subdir]))
    return "\n".join(lines) + "\n"


def check_free(out):
    """Refuses a second submission (or a local run) while the last array of OUT still has tasks in
    the queue."""
    if not os.path.isdir(out):
        return
    rec = current(out)
    if rec is None or rec.get("state") != "submitted":
        return
    tasks = queue_tasks(rec["job"])
    if tasks:
        raise StudyError(f"{out}: this sweep is still running as Slurm job {rec['job']} ({len(tasks)} task(s) "
                         f"pending or running): follow it with --status, or cancel it (scancel {rec['job']}) first")


def submit(sweep, out, opts, jobs, quiet=False, wait=True, label="sweep"):
    """scripts/sweep FILE --slurm. Returns the exit status."""
    out = os.path.abspath(out)
    sweep_mod.check_out_dir(sweep, out)
    check_slurm()
    check_free(out)
    runner = Runner(out, jobs, quiet=quiet, label=label)
    records, todo = runner.split_done(sweep.point_list) if os.path.isdir(runner.points_dir) else ({}, sweep.point_list)
    skipped = len(sweep.point_list) - len(todo)
    if not todo:
        runner.log(f"{len(sweep.point_list)} points, all already done: nothing to submit")
        return finish(sweep, out, [], quiet, label)
    shards = _shards(todo, opts.points_per_task)
    test_submission(opts, sweep.name, len(shards))
    ensure_tools()

    runner.prepare()
    runner.log(f"{len(sweep.point_list)} points, {skipped} already done (skipped, not recomputed), {len(todo)} to "
               f"submit as {len(shards)} array task(s) of at most {opts.points_per_task}; output in {out}")
    images = runner.with_pool(lambda pool: runner.make_images(pool, todo))
    runner.cleanup()
    atomic_write_json(os.path.join(out, "sweep.json"), sweep.describe())

    subdir = _next_submit_dir(out)
    os.makedirs(os.path.join(subdir, "logs"))
    os.makedirs(os.path.join(subdir, "tasks"))
    os.makedirs(os.path.join(subdir, "shards"))
    for i, shard in enumerate(shards):
        atomic_write_json(os.path.join(subdir, "shards", f"{i}.json"),
                          {"energy_table": sweep.energy_table,
                           "points": [{"id": p.id, "image": os.path.relpath(images[p.id], out), "spec": p.spec,
                                       "placement": p.placement, "overrides": p.overrides, "config": p.config,
                                       "swept": p.swept} for p in shard]})
    plan = {"sweep": sweep.name, "sweep_file": os.path.abspath(sweep.path), "out": out,
            "submitted_from": socket.gethostname(), "submitted": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "points": len(todo),
            "shards": [[[p.id, os.path.relpath(images[p.id], out)] for p in shard] for shard in shards]}
    atomic_write_json(os.path.join(subdir, "plan.json"), plan)
    script = os.path.join(subdir, "task.sh")
    atomic_write_text(script, _task_script(sweep.path, out, subdir, opts))
    os.chmod(script, 0o755)
    cmd = _sbatch_cmd(opts, sweep.name, len(shards), os.path.join(subdir, "logs", "task-%a.log")) + [script]
    job = None
    try:
        rc, stdout, err = _run(cmd)
        if rc != 0:
            msg = " ".join(err.split("\n"))
            shutil.rmtree(subdir, ignore_errors=True)
            raise StudyError(f"--slurm: {_which_option(msg, opts)}: Slurm refused the job: {msg}")
        job = stdout.strip().split(";")[0]
        atomic_write_json(current_path(out), {"job": job, "dir": os.path.relpath(subdir, out), "state": "submitted",
                                              "tasks": len(shards), "points": len(todo),
                                              "submitted": plan["submitted"]})
    except KeyboardInterrupt:
        if job is not None:  # submitted but not recorded: nobody could follow it, so it goes
            cancel(job, out, label)
        raise
    runner.log(f"submitted Slurm job {job}: {len(shards)} task(s) ({' '.join(shlex.quote(c) for c in cmd)}); "
               f"logs in {os.path.join(subdir, 'logs')}")
    if not wait:
        runner.log(f"not waiting (--no-wait): follow with `scripts/sweep {sweep.path} --out {out} --status`, "
                   "build results.csv with --collect")
        return 0
    failed = monitor(sweep, out, job, subdir, skipped, opts.poll, quiet, label)
    return finish(sweep, out, failed, quiet, label)


def _shard_ids(subdir):
    plan = load_json(os.path.join(subdir, "plan.json"), "Slurm submission plan")
    return [[pid for pid, _ in shard] for shard in plan["shards"]]


def _task_report(out, subdir, job, index, ids, done, acct):
    missing = [i for i in ids if i not in done]
    rec_path = os.path.join(subdir, "tasks", f"{index}.json")
    why = acct.get(index, "")
    try:
        with open(rec_path) as f:
            rec = json.load(f)
        if rec.get("errors"):
            why = (why + "; " if why else "") + rec["errors"][0].split("\n")[0]
    except (OSError, ValueError):
        why = why or "no task record: killed or never started (time limit, memory, node, --setup)"
    return {"task": f"{job}_{index}", "log": os.path.join(subdir, "logs", f"task-{index}.log"),
            "points": missing, "why": why}


def done_ids(out, ids):
    """The points whose files exist. A point file appears by an atomic rename, so it is complete;
    checking existence (not reading every record) keeps each poll light on a shared filesystem.
    results.csv is built from the validated records."""
    points = os.path.join(out, "points")
    try:
        present = set(os.listdir(points))
    except OSError:
        return set()
    return {i for i in ids if i + ".json" in present}


def task_states(sweep, out, job, subdir):
    """Where every task of the array stands: (shards, done ids, queue {index: state} or None)."""
    shards = _shard_ids(subdir)
    done = done_ids(out, [p.id for p in sweep.point_list])
    return shards, done, queue_tasks(job)


def _counts(shards, done, queue):
    running = pending = failed = 0
    failed_tasks = []
    for i, ids in enumerate(shards):
        left = sum(1 for pid in ids if pid not in done)
        state = queue.get(i) if queue is not None else "?"
        if state in RUNNING_STATES:
            running += left
        elif state in PENDING_STATES or state == "?":
            pending += left
        elif left:
            failed += left
            failed_tasks.append(i)
    return running, pending, failed, failed_tasks


def monitor(sweep, out, job, subdir, skipped, poll, quiet, label):
    """Waits for the array, showing progress; returns the failed tasks' reports. Ctrl-C/SIGTERM
    cancels it."""
    total = len(sweep.point_list)
    start = time.monotonic()
    last_line, last_time = None, 0.0
    try:
        while True:
            shards, done, queue = task_states(sweep, out, job, subdir)
            running, pending, failed, _ = _counts(shards, done, queue)
            elapsed = time.monotonic() - start
            ran = len(done) - skipped
            rate = ran / elapsed if elapsed > 0 else 0.0
            left = total - len(done) - failed
            eta = f"{left / rate:.0f} s left" if rate > 0 else "time left unknown"
            queue_note = "" if queue is not None else " (queue not answering)"
            line = (f"{label}: job {job}: {len(done)}/{total} points done, {running} running, {pending} pending, "
                    f"{failed} failed{queue_note}; {rate:.2f} points/s, {eta}, {elapsed:.0f} s elapsed")
            now = time.monotonic()
            if not quiet and (line.split(";")[0] != last_line or now - last_time >= 30):
                print(line, file=sys.stderr, flush=True)
                last_line, last_time = line.split(";")[0], now
            if queue == {}:
                break
            time.sleep(poll)
    except KeyboardInterrupt:
        cancel(job, out, label)
        _set_state(out, "cancelled")
        raise
    shards, done, _ = task_states(sweep, out, job, subdir)
    _, _, _, failed_tasks = _counts(shards, done, {})
    for _ in range(2):
        if not failed_tasks:
            break
        # A shared filesystem (NFS attribute caching) may show a file another node just renamed
        # into place a little late: look again before calling a task failed.
        time.sleep(2)
        done = done_ids(out, [p.id for p in sweep.point_list])
        _, _, _, failed_tasks = _counts(shards, done, {})
    _set_state(out, "finished")
    acct = accounting_states(job) if failed_tasks else {}
    return [_task_report(out, subdir, job, i, shards[i], done, acct) for i in failed_tasks]


def _set_state(out, state):
    rec = current(out)
    if rec is not None:
        rec["state"] = state
        atomic_write_json(current_path(out), rec)


def finish(sweep, out, failed, quiet, label):
    """results.csv from the points done, the summary, the failed tasks. Returns the exit status."""
    rows, _ = sweep_mod.write_results(sweep, out, sweep_mod.done_records(sweep, out))
    counts = collections.Counter(r["status"] for r in rows)
    if not quiet:
        parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        print(f"{label}: {len(rows)}/{len(sweep.point_list)} points in {os.path.join(out, 'results.csv')}"
              + (f" ({parts})" if parts else ""), file=sys.stderr)
    for f in failed:
        print(f"{label}: error: Slurm task {f['task']} failed ({f['why']}): log {f['log']}; its "
              f"{len(f['points'])} point(s) not done: {' '.join(f['points'])}; rerun with --slurm to retry them",
              file=sys.stderr)
    for r in rows:
        if r["status"] == "mismatch":
            print(f"{label}: MISMATCH (not bit-exact) at point {r['point_id']}: see "
                  f"{os.path.join(out, 'points', r['point_id'] + '.json')}", file=sys.stderr)
    return 1 if failed or counts.get("mismatch") or len(rows) < len(sweep.point_list) else 0


# ---- inside an array task

def run_task(out, subdir):
    """scripts/sweep FILE --out OUT --slurm-task SUBDIR, inside array task $SLURM_ARRAY_TASK_ID:
    simulates the task's shard (SUBDIR/shards/<index>.json) with the shared point runner. Returns
    the exit status."""
    out = os.path.abspath(out)
    index_text = os.environ.get("SLURM_ARRAY_TASK_ID", "")
    if not index_text.isdigit():
        raise StudyError("--slurm-task runs inside a Slurm array task (SLURM_ARRAY_TASK_ID not set)")
    index = int(index_text)
    job = os.environ.get("SLURM_ARRAY_JOB_ID", "?")
    shard = load_json(os.path.join(subdir, "shards", f"{index}.json"), f"shard of task {index}")
    points, images = [], {}
    for q in shard["points"]:
        p = sweepfile.Point(q["spec"], q["placement"], q["overrides"], q["config"], q["swept"],
                            shard["energy_table"])
        if p.id != q["id"]:  # the id hashes the energy table's contents: it changed since submission
            raise StudyError(f"point {q['id']} of task {index}: its inputs changed since submission (energy table "
                             f"{shard['energy_table']}?); rerun scripts/sweep --slurm to submit again")
        points.append(p)
        images[p.id] = os.path.join(out, q["image"])
    task = f"{job}_{index}"
    jobs = int(os.environ.get("SLURM_CPUS_PER_TASK", "1") or 1)
    runner = Runner(out, jobs, label=f"task {task}", work_name=f"task-{task}", record_extra={"slurm_task": task})
    runner.prepare()
    _, todo = runner.split_done(points)
    runner.log(f"{len(points)} point(s), {len(points) - len(todo)} already done, on {jobs} job(s) on "
               f"{socket.gethostname()}")
    done, errors = {}, []
    if todo:
        progress = Progress(runner.label, len(points), len(points) - len(todo))
        done, errors = runner.with_pool(lambda pool: runner.simulate_points(pool, todo, images, progress))
    runner.cleanup()
    for e in errors:
        runner.log(f"error: {e}")
    atomic_write_json(os.path.join(subdir, "tasks", f"{index}.json"),
                      {"task": task, "host": socket.gethostname(), "points": [p.id for p in points],
                       "done": sorted(done), "errors": errors})
    return 1 if errors else 0


# ---- later: --status and --collect

def status(sweep, out):
    """scripts/sweep FILE --status: the points done, and the last Slurm array's tasks."""
    out = os.path.abspath(out)
    if not os.path.isdir(out):
        raise StudyError(f"{out}: no such output directory: the sweep {sweep.name} has not been run there")
    sweep_mod.check_out_dir(sweep, out)
    done = sweep_mod.done_records(sweep, out)  # read once: the statuses are worth it here
    counts = collections.Counter(r["status"] for r in done.values())
    total = len(sweep.point_list)
    parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    print(f"sweep {sweep.name}: {len(done)}/{total} points done" + (f" ({parts})" if parts else "")
          + f", {total - len(done)} missing; output in {out}")
    rec = current(out)
    if rec is None:
        print("no Slurm submission in this directory")
        return 0
    job, subdir = rec["job"], os.path.join(out, rec["dir"])
    shards, done_ids, queue = task_states(sweep, out, job, subdir)
    if queue is None:
        print(f"Slurm job {job} ({rec.get('state')}): the queue does not answer (squeue failed)")
        return 0
    running, pending, failed, failed_tasks = _counts(shards, done_ids, queue)
    state = "in the queue" if queue else "ended"
    print(f"Slurm job {job} ({len(shards)} tasks, submitted {rec.get('submitted')}): {state}; "
          f"points {running} running, {pending} pending, {failed} failed")
    if failed_tasks:
        acct = accounting_states(job)
        for i in failed_tasks:
            f = _task_report(out, subdir, job, i, shards[i], done_ids, acct)
            print(f"failed task {f['task']} ({f['why']}): log {f['log']}; points: {' '.join(f['points'])}")
    if rec.get("state") == "cancelled":
        print("the array was cancelled; rerun with --slurm to submit the missing points")
    return 0


def collect(sweep, out, quiet=False, label="sweep"):
    """scripts/sweep FILE --collect: OUT/results.csv (re)built from whatever points are done."""
    out = os.path.abspath(out)
    if not os.path.isdir(os.path.join(out, "points")):
        raise StudyError(f"{out}: no points directory: the sweep {sweep.name} has not been run there")
    sweep_mod.check_out_dir(sweep, out)
    rows, _ = sweep_mod.write_results(sweep, out, sweep_mod.done_records(sweep, out))
    if not quiet:
        print(f"{label}: {len(rows)}/{len(sweep.point_list)} points in {os.path.join(out, 'results.csv')}",
              file=sys.stderr)
    return 0
