"""The accuracy studies of Deep Compression and EIE on Fashion-MNIST (docs/studies.md, "Accuracy
studies"), driven through eie-train, eie-compress and eie-sim.

Every point is one eie-train run that starts from the same dense network (trained once, imported
as .npz) and whose JSON report is kept under a fingerprint of its command line: points that ask
for the same steps (the same density, bits, k-means initialisation and datapath) are computed
once and shared between the studies, and a study run again, or resumed after an interruption,
reuses every finished point.
"""
import contextlib
import csv
import hashlib
import io
import json
import math
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from .common import (StudyError, atomic_directory, atomic_output, atomic_write_json, atomic_write_text,
                     temporary_path, tool)

STUDIES = ("compression", "bits", "init", "precision", "pe-cost")
LENET_DENSITY = "0.08,0.09,0.26"  # Deep Compression Table 2 (LeNet-300-100)
SIZES = (784, 300, 100, 10)
INDEX_BITS = 4  # the image's relative-index width (arch default)
# The network whose cost pe-cost measures (and the 16-bit point of precision, the pruned 4-bit point
# of bits): its run keeps its image and checkpoints whichever study asks for it first.
COST_POINT = (LENET_DENSITY, 4, "linear", ())


class Size:
    """How much data and training each point gets."""

    def __init__(self, name):
        self.name = name
        if name == "full":
            self.data = []
            self.dense_epochs, self.retrain, self.share, self.prune_steps = 10, 3, 3, 3
            self.pe_inputs = 1000
        elif name == "quick":
            self.data = ["--train-limit", "12000", "--val-count", "1000", "--test-limit", "2000"]
            self.dense_epochs, self.retrain, self.share, self.prune_steps = 4, 1, 1, 2
            self.pe_inputs = 200
        else:  # tiny: the CI test
            self.data = ["--train-limit", "1500", "--val-count", "200", "--test-limit", "300", "--calibration", "64"]
            self.dense_epochs, self.retrain, self.share, self.prune_steps = 2, 2, 1, 1
            self.pe_inputs = 20

    def grid(self, study):
        """The points of a study. The sizes overlap on purpose: quantisation-only points are the
        unpruned points of the bits study, the linear points of init are its pruned ones, the
        16-bit point of precision is its pruned 4-bit one, and pe-cost uses that network too. At
        the tiny size (the CI test) compression's pruned point is LeNet-300-100's densities as
        well, so the five studies need only seven points besides the dense network."""
        tiny, quick = self.name == "tiny", self.name == "quick"
        if study == "compression":
            return {"densities": [LENET_DENSITY] if tiny else [0.5, 0.2, 0.05] if quick else [0.5, 0.3, 0.2, 0.1, 0.05, 0.03],
                    "q_bits": [4] if tiny else [8, 4, 2, 1] if quick else [8, 6, 5, 4, 3, 2, 1], "both_bits": 4}
        if study == "bits":
            return {"bits": [2, 4] if tiny else [1, 2, 3, 4, 8] if quick else list(range(1, 9))}
        if study == "init":
            return {"bits": [4] if tiny else list(range(2, 9))}
        if study == "precision":
            return {"widths": [8, 16] if tiny else [8, 16, 32] if quick else [8, 12, 16, 32]}
        return {"pes": [4, 16] if tiny else [4, 16, 64, 256] if quick else [4, 8, 16, 32, 64, 128, 256]}


def precision_arch(width):
    """The --set options of a datapath width (16: the default datapath, no options)."""
    return () if width == 16 else (f"act_bits={width}", f"codebook_value_bits={width}")


def study_points(study, g):
    """The eie-train points (density, bits, init, arch) a study reads, so that they can be computed
    ahead, several at a time."""
    if study == "compression":
        return [(d, g["both_bits"], "linear", ()) for d in g["densities"]] + [(1.0, b, "linear", ()) for b in g["q_bits"]]
    if study == "bits":
        return [(d, b, "linear", ()) for b in g["bits"] for d in (1.0, LENET_DENSITY)]
    if study == "init":
        return [(LENET_DENSITY, b, i, ()) for b in g["bits"] for i in ("linear", "density", "random")]
    if study == "precision":
        return [(LENET_DENSITY, 4, "linear", precision_arch(w)) for w in g["widths"]]
    return [COST_POINT]


class Runner:
    def __init__(self, out, size, jobs, log=print):
        self.out, self.size, self.jobs, self.log = out, size, jobs, log
        self.live, self.lock = set(), threading.Lock()  # the tools running now (stopped on interruption)
        self.cache = os.path.join(out, "cache", size.name)
        try:
            os.makedirs(os.path.join(self.cache, "points"), exist_ok=True)
        except OSError as e:
            raise StudyError(f"--out {out}: cannot create the output directory ({e.strerror}: {e.filename})")

    def _run(self, cmd, what):
        # libtorch's OpenMP threads spin while they wait; on a machine whose cores are busy with
        # other work a spinning thread holds back the one it waits for, and a small epoch takes
        # 20-30x longer (docs/training.md, "Busy machines"). Passive waiting unless the user chose.
        env = dict(os.environ)
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        with self.lock:
            self.live.add(proc)
        try:
            _, err = proc.communicate()
        except BaseException:  # interrupted: the tool goes too
            proc.kill()
            proc.wait()
            raise
        finally:
            with self.lock:
                self.live.discard(proc)
        if proc.returncode != 0:
            raise StudyError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{err.strip()[-2000:]}")

    def stop_all(self):
        with self.lock:
            procs = list(self.live)
        for proc in procs:
            proc.kill()
            proc.wait()

    def prefetch(self, specs):
        """Computes the points not cached yet, --jobs at a time (each eie-train on one thread, so
        a point's result does not depend on --jobs). On an error or an interruption the running
        tools are stopped; finished points are kept."""
        self.dense()
        todo = list(dict.fromkeys((str(d), b, i, tuple(a)) for d, b, i, a in specs))
        if self.jobs < 2 or len(todo) < 2:
            for spec in todo:
                self.point(*spec)
            return
        pool = ThreadPoolExecutor(max_workers=self.jobs)
        try:
            for f in [pool.submit(self.point, *spec) for spec in todo]:
                f.result()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            self.stop_all()
            raise
        pool.shutdown()

    def dense(self):
        """The dense network, trained once per size, as an .npz the points import."""
        npz = os.path.join(self.cache, "dense.npz")
        if os.path.exists(npz):
            return npz
        self.log(f"accuracy-studies: training the dense network ({self.size.name})")
        with temporary_path(os.path.join(self.cache, "dense.ck")) as ck:
            self._run([tool("eie-train"), "--sizes", ",".join(map(str, SIZES)), "--epochs", str(self.size.dense_epochs),
                       "--stop-after", "dense", "--checkpoints", ck, "--no-easy", "-q", "--threads", "2"] + self.size.data,
                      "dense training")
            import numpy as np
            arrays = {}
            for k in range(1, len(SIZES)):
                arrays[f"w{k}"] = np.load(os.path.join(ck, "dense", f"fc{k}.weight.npy"))
                arrays[f"b{k}"] = np.load(os.path.join(ck, "dense", f"fc{k}.bias.npy"))
            state = json.load(open(os.path.join(ck, "dense", "state.json")))
            # dense.json first: dense.npz, whose presence means "trained", is the last file written.
            atomic_write_json(os.path.join(self.cache, "dense.json"), state)
            with atomic_output(npz) as tmp, open(tmp, "xb") as f:
                np.savez(f, **arrays)
        return npz

    def point(self, density, bits, init="linear", arch=()):
        """One eie-train run from the dense network: its JSON report (cached by fingerprint) and
        its image directory (kept only for COST_POINT)."""
        npz = self.dense()
        keep_image = (str(density), bits, init, tuple(arch)) == COST_POINT
        dense_only = str(density) == "1" or str(density) == "1.0"
        # one thread: libtorch's results may depend on its thread count, and points run side by side
        cmd = ["--threads", "1", "--import", npz, "--layers", "w1:b1,w2:b2,w3:b3", "--density", str(density), "--weight-bits", str(bits),
               "--init", init, "--prune-steps", str(self.size.prune_steps),
               "--retrain-epochs", "0" if dense_only else str(self.size.retrain),
               "--share-epochs", str(self.size.share), "--no-easy", "--no-cycle-model"] + self.size.data
        for a in arch:
            cmd += ["--set", a]
        key = hashlib.sha256(json.dumps(cmd).encode()).hexdigest()[:16]
        rep = os.path.join(self.cache, "points", key + ".json")
        img = os.path.join(self.cache, "points", key + ".img")
        if os.path.exists(rep) and (not keep_image or os.path.isdir(img + ".ck")):
            return json.load(open(rep)), img
        self.log(f"accuracy-studies: point density {density}, {bits} bits, {init} init"
                 + (f", {' '.join(arch)}" if arch else ""))
        # Every output through a temporary, published when eie-train succeeded: the image and the
        # trained weights (the checkpoints, outside the fingerprint) when kept, then the report,
        # whose presence means "done". Failed or interrupted: nothing of the point is left.
        with contextlib.ExitStack() as outputs:
            rep_tmp = outputs.enter_context(atomic_output(rep))
            if keep_image:
                img_tmp = outputs.enter_context(atomic_directory(img, create=False))
                extra = ["--checkpoints", outputs.enter_context(atomic_directory(img + ".ck", create=False))]
            else:
                img_tmp = outputs.enter_context(temporary_path(img))
                extra = []
            self._run([tool("eie-train")] + cmd + extra + ["-q", "-o", img_tmp, "--json", rep_tmp], "eie-train")
        return json.load(open(rep)), img


def layer_counts(report):
    """(weights, non-zeros) per layer, weights and bias, from the report's storage table."""
    out = []
    for L in report["layers"]:
        out.append((L["weights"], L["weights"] * L["density"]))
    return out


def ratio(report, pruned, bits):
    """Compression of the weights as Deep Compression counts it (without Huffman): dense fp32 over
    pruned: non-zeros x (32-bit value + index); quantised: entries x bits + 2^bits fp32 codebook."""
    dense = stored = 0
    for weights, nnz in layer_counts(report):
        dense += 32 * weights
        n = nnz if pruned else weights
        value = 32 if bits is None else bits
        stored += n * (value + (INDEX_BITS if pruned else 0)) + (0 if bits is None else 32 * 2 ** bits)
    return dense / stored


def acc(report, key):
    return report["accuracy"][key]


def verdict(holds):
    """How every reading ends: the finding holds, does not hold, or the measured numbers cannot
    tell (holds is None)."""
    return "is inconclusive at this size" if holds is None else "holds" if holds else "does not hold"


def resolution(report):
    """The smallest accuracy difference the test set resolves: two standard errors of the dense
    network's top-1 accuracy on the report's test images (5.6 points on the tiny size's 300
    images, 1.6 on quick's 2,000, 0.6 on all 10,000). A curve that varies by less than this, or a
    winner ahead by less, says nothing at this size."""
    p, n = report["accuracy"]["dense_float"], report["accuracy"]["test_images"]
    return 2 * math.sqrt(max(p * (1 - p), 0.01) / n)


def write_csv(path, header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([f"{v:.6g}" if isinstance(v, float) else v for v in r])
    atomic_write_text(path, buf.getvalue())


def save_figure(fig, directory, name):
    for ext in ("png", "svg"):
        with atomic_output(os.path.join(directory, f"{name}.{ext}")) as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight", format=ext)


def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


# --- the studies: each returns (header, rows, reading) and draws its figure

def study_compression(run, g, d):
    dense = None
    rows = []
    for dens in g["densities"]:
        rep, _ = run.point(dens, g["both_bits"])
        dense = acc(rep, "dense_float")
        rows.append(["pruning", dens, "", ratio(rep, True, None), acc(rep, "pruned_float")])
        rows.append(["pruning+quantisation", dens, g["both_bits"], ratio(rep, True, g["both_bits"]),
                     acc(rep, "quantised_float")])
    for b in g["q_bits"]:
        rep, _ = run.point(1.0, b)
        rows.append(["quantisation", 1.0, b, ratio(rep, False, b), acc(rep, "quantised_float")])
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for method, style in (("pruning", "o-"), ("quantisation", "s-"), ("pruning+quantisation", "^-")):
        pts = sorted((r[3], r[4]) for r in rows if r[0] == method)
        ax.plot([p[0] for p in pts], [100 * (p[1] - dense) for p in pts], style, label=method)
    ax.axhline(0, color="gray", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("compression rate (dense fp32 / stored bits, weights and biases)")
    ax.set_ylabel("accuracy change vs dense (points)")
    ax.set_title("Accuracy vs compression rate (Deep Compression Fig. 6)")
    ax.legend()
    save_figure(fig, d, "accuracy_vs_compression")
    plt.close(fig)

    def best_ratio(method, tol=0.01):  # the largest compression within a point of dense
        ok = [r[3] for r in rows if r[0] == method and r[4] >= dense - tol]
        return max(ok) if ok else 0.0
    p, q, pq = best_ratio("pruning"), best_ratio("quantisation"), best_ratio("pruning+quantisation")
    text = lambda v: f"{v:.1f}x" if v else "none of its points"
    # "combined is best" needs the combination to be measured within a point of dense; when even
    # it is not (too little retraining at this size), the curves do not tell which is best.
    holds = None if not pq else pq > max(p, q)
    reading = (f"Within one point of the dense network ({100 * dense:.2f}%), pruning alone reaches {text(p)}, "
               f"quantisation alone {text(q)} and both together {text(pq)}: Deep Compression's finding that the "
               f"two work best combined {verdict(holds)} on Fashion-MNIST.")
    return ["method", "density", "weight_bits", "compression", "accuracy"], rows, reading


def study_bits(run, g, d):
    rows = []
    for b in g["bits"]:
        for pruned, dens in ((False, 1.0), (True, LENET_DENSITY)):
            rep, _ = run.point(dens, b)
            rows.append(["pruned" if pruned else "dense", b, acc(rep, "quantised_float"), acc(rep, "dense_float")])
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for kind, style in (("dense", "s-"), ("pruned", "o-")):
        pts = [(r[1], r[2]) for r in rows if r[0] == kind]
        ax.plot([p[0] for p in pts], [100 * p[1] for p in pts], style,
                label="without pruning" if kind == "dense" else f"with pruning ({LENET_DENSITY})")
    ax.axhline(100 * rows[0][3], color="gray", lw=0.8, ls="--", label="dense float")
    ax.set_xlabel("weight bits")
    ax.set_ylabel("top-1 accuracy (%)")
    ax.set_title("Accuracy vs weight bits (Deep Compression Fig. 7)")
    ax.legend()
    save_figure(fig, d, "accuracy_vs_bits")
    plt.close(fig)

    def knee(kind):  # the fewest bits within 1 point of the best of the curve
        pts = [(r[1], r[2]) for r in rows if r[0] == kind]
        best = max(p[1] for p in pts)
        return min(p[0] for p in pts if p[1] >= best - 0.01)
    kd, kp = knee("dense"), knee("pruned")
    # where a drop starts is only seen if each curve has a drop the test set resolves
    res = resolution(run.point(1.0, g["bits"][0])[0])
    spread = {k: max(r[2] for r in rows if r[0] == k) - min(r[2] for r in rows if r[0] == k) for k in ("dense", "pruned")}
    holds = None if len(g["bits"]) < 2 or min(spread.values()) <= res else abs(kd - kp) <= 1
    reading = (f"Accuracy stays within a point of its best down to {kd} bits without pruning and {kp} bits with "
               f"pruning (the curves span {100 * spread['dense']:.1f} and {100 * spread['pruned']:.1f} points, "
               f"resolution {100 * res:.1f}): Deep Compression's finding that accuracy starts to drop at the same "
               f"number of bits either way (to within one bit) {verdict(holds)} on Fashion-MNIST.")
    return ["network", "weight_bits", "accuracy", "dense_float"], rows, reading


def study_init(run, g, d):
    rows = []
    for b in g["bits"]:
        for init in ("linear", "density", "random"):
            rep, _ = run.point(LENET_DENSITY, b, init)
            rows.append([init, b, acc(rep, "quantised_float")])
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for init, style in (("linear", "o-"), ("density", "s-"), ("random", "^-")):
        pts = [(r[1], r[2]) for r in rows if r[0] == init]
        ax.plot([p[0] for p in pts], [100 * p[1] for p in pts], style, label=init)
    ax.set_xlabel("weight bits")
    ax.set_ylabel("top-1 accuracy (%)")
    ax.set_title(f"k-means initialisation (Deep Compression Fig. 8), density {LENET_DENSITY}")
    ax.legend()
    save_figure(fig, d, "kmeans_init")
    plt.close(fig)
    res = resolution(run.point(LENET_DENSITY, g["bits"][0], "linear")[0])
    wins, decided, losses, ahead = {}, [], [], []
    for b in g["bits"]:
        by = {r[0]: r[2] for r in rows if r[1] == b}
        wins[b] = max(by, key=lambda k: (by[k], k == "linear"))
        if max(by.values()) - min(by.values()) > res:  # the inits differ by more than the test set resolves
            decided.append(b)
            if by["linear"] < by[wins[b]] - res:
                losses.append(b)
            elif by["linear"] > min(by.values()) + res:  # on top and clearly better than another
                ahead.append(b)
    # does not hold: linear clearly beaten anywhere but at one width near 3 bits; holds: besides that,
    # linear is clearly ahead somewhere; otherwise the test set cannot tell the three apart
    if len(losses) > 1 or any(abs(b - 3) > 1 for b in losses):
        holds = False
    else:
        holds = True if ahead else None
    listed = lambda bs: ", ".join(f"{b} bits" for b in bs) if bs else "none"
    reading = (f"The best initialisation per weight width is {', '.join(f'{b} bits: {w}' for b, w in wins.items())}; "
               f"the three differ by more than the resolution of {100 * res:.1f} points at "
               f"{len(decided)} of {len(wins)} widths, linear is clearly ahead at {listed(ahead)} and clearly "
               f"beaten at {listed(losses)}: Deep Compression's finding that linear is best except around 3 bits "
               f"{verdict(holds)} on Fashion-MNIST.")
    return ["init", "weight_bits", "accuracy"], rows, reading


def study_precision(run, g, d):
    rows = []
    for w in g["widths"]:
        rep, _ = run.point(LENET_DENSITY, 4, "linear", precision_arch(w))
        rows.append([w, acc(rep, "golden_fixed_point"), acc(rep, "quantised_float")])
    ref = rows[-1][2]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot([r[0] for r in rows], [100 * r[1] for r in rows], "o-", label="fixed point (bit-exact model)")
    ax.axhline(100 * ref, color="gray", lw=0.8, ls="--", label="32-bit float")
    ax.set_xticks([r[0] for r in rows])
    ax.set_xlabel("activation/accumulator and codebook value bits")
    ax.set_ylabel("top-1 accuracy (%)")
    ax.set_title("Accuracy vs datapath precision (EIE Fig. 10)")
    ax.legend()
    save_figure(fig, d, "accuracy_vs_precision")
    plt.close(fig)
    by = {r[0]: r[1] for r in rows}
    parts = [f"{w}-bit fixed point is {100 * (a - ref):+.2f} points from float" for w, a in sorted(by.items())]
    # both widths are compared with the float network on the same test images
    holds = (abs(by[16] - ref) <= 0.005 and by[8] < ref - 0.005) if 8 in by and 16 in by else None
    reading = (f"{', '.join(parts)} ({100 * ref:.2f}%): EIE's finding (16-bit within 0.5% of float, 8-bit far "
               f"worse) {verdict(holds)} on Fashion-MNIST.")
    return ["bits", "accuracy_fixed_point", "accuracy_float"], rows, reading


def _sim_stats(run, img, pes, extra, what):
    with temporary_path(os.path.join(run.cache, "stats.json")) as stats:
        jobs = ["--jobs", str(run.jobs)] if "--inputs" in extra else []
        run._run([tool("eie-sim"), img, "--pes", str(pes), "--stats", stats] + jobs + extra, what)
        with open(stats) as f:
            return json.load(f)


def activation_densities(ck, n):
    """The density of every layer's input over the first n test images, from the trained weights
    (float, after trained quantisation): what the synthetic layers must be given."""
    import gzip
    import numpy as np
    with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "rb") as f:
        x = np.frombuffer(f.read(), np.uint8)[16:16 + n * 784].reshape(n, 784).astype(np.float64) / 255.0
    dens = []
    for k in range(1, len(SIZES)):
        dens.append(float(np.count_nonzero(x)) / x.size)
        w = np.load(os.path.join(ck, "share", f"w{k}.weight.npy")).astype(np.float64)
        b = np.load(os.path.join(ck, "share", f"w{k}.bias.npy")).astype(np.float64)
        x = x @ w.T + b
        if k < len(SIZES) - 1:
            x = np.maximum(x, 0)
    return dens


def _cost_row(run, rep, img, manifest, act_dens, pes, n):
    """Cycles and energy per inference of the trained image on n test images, and of synthetic
    layers of the same shapes and densities."""
    test = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
    s = _sim_stats(run, img, pes, ["--inputs", test, "--count", str(n)], "eie-sim (trained network)")
    if not s.get("bit_exact"):
        raise StudyError(f"eie-sim: the trained network is not bit-exact at {pes} PEs")
    t = s["totals"]
    cycles, energy = t["cycles"] / n, t["energy"]["total_pj"] / n
    syn_cycles = syn_energy = 0.0
    for k, L in enumerate(manifest["layers"]):
        in_len, out_len = L["in_len"], L["out_len"]
        a = act_dens[k]
        w = rep["layers"][k]["density"]
        with temporary_path(os.path.join(run.cache, f"syn-{pes}-{k}")) as syn:
            run._run([tool("eie-compress"), "--synthetic", f"{in_len},{out_len}", "--weight-density", f"{w:.6f}",
                      "--act-density", f"{a:.6f}", "--pes", str(pes), "--weight-bits", "4", "-o", syn, "-q"],
                     "eie-compress (synthetic)")
            ss = _sim_stats(run, syn, pes, [], "eie-sim (synthetic)")
        syn_cycles += ss["totals"]["cycles"]
        syn_energy += ss["totals"]["energy"]["total_pj"]
    return [pes, cycles, energy, syn_cycles, syn_energy, ";".join(f"{a:.3f}" for a in act_dens)]


def study_pe_cost(run, g, d):
    rep, img = run.point(*COST_POINT)
    n = run.size.pe_inputs
    manifest = json.load(open(os.path.join(img, "manifest.json")))
    act_dens = activation_densities(img + ".ck", n)
    rows = []
    for pes in g["pes"]:
        # a cost row is a function of the point's image, the PE count and the inputs: kept beside
        # the point so that a rerun simulates nothing
        row_file = os.path.join(run.cache, "cost", f"{os.path.basename(img)[:-len('.img')]}-{pes}pes-{n}.json")
        if os.path.exists(row_file):
            rows.append(json.load(open(row_file)))
            continue
        run.log(f"accuracy-studies: cost on {pes} PEs")
        rows.append(_cost_row(run, rep, img, manifest, act_dens, pes, n))
        os.makedirs(os.path.dirname(row_file), exist_ok=True)
        atomic_write_json(row_file, rows[-1])
    plt = pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    x = [r[0] for r in rows]
    a1.loglog(x, [r[1] for r in rows], "o-", label="trained network")
    a1.loglog(x, [r[3] for r in rows], "s--", label="synthetic, same densities")
    a1.set_xlabel("PEs"); a1.set_ylabel("cycles per inference"); a1.legend()
    a2.loglog(x, [r[2] / 1e6 for r in rows], "o-", label="trained network")
    a2.loglog(x, [r[4] / 1e6 for r in rows], "s--", label="synthetic, same densities")
    a2.set_xlabel("PEs"); a2.set_ylabel("energy per inference (uJ)"); a2.legend()
    fig.suptitle("Cost of the trained LeNet-300-100 vs the synthetic generator's prediction")
    save_figure(fig, d, "cost_vs_pes")
    plt.close(fig)
    dc = [abs(r[1] / r[3] - 1) for r in rows]
    de = [abs(r[2] / r[4] - 1) for r in rows]
    holds = None if len(rows) < 2 else max(dc) <= 0.25 and max(de) <= 0.25
    reading = (f"Across {x[0]} to {x[-1]} PEs, synthetic layers at the trained network's weight and activation "
               f"densities give its cycles per inference to within {100 * max(dc):.0f}% and its energy to within "
               f"{100 * max(de):.0f}%, so the finding that the synthetic generator predicts real pruned layers "
               f"(to 25%) {verdict(holds)} on Fashion-MNIST, and the cost "
               f"{'falls' if rows[-1][1] < rows[0][1] else 'does not fall'} with more PEs as in EIE's scaling study.")
    return ["num_pes", "cycles", "energy_pj", "synthetic_cycles", "synthetic_energy_pj", "act_density"], rows, reading


RUNNERS = {"compression": study_compression, "bits": study_bits, "init": study_init, "precision": study_precision,
           "pe-cost": study_pe_cost}
TITLES = {"compression": "Accuracy vs compression rate (Deep Compression Fig. 6)",
          "bits": "Accuracy vs weight bits, with and without pruning (Deep Compression Fig. 7)",
          "init": "k-means initialisation (Deep Compression Fig. 8)",
          "precision": "Accuracy vs datapath precision (EIE Fig. 10)",
          "pe-cost": "Cycles and energy of the trained network across PE counts, and the synthetic prediction"}
