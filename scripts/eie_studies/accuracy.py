"""The accuracy studies of Deep Compression and EIE on Fashion-MNIST (docs/studies.md, "Accuracy
studies"), driven through eie-train, eie-compress and eie-sim.

Every point is one eie-train run that starts from the same dense network (trained once, imported
as .npz) and whose JSON report is kept under a fingerprint of its command line: points that ask
for the same steps (the same density, bits, k-means initialisation and datapath) are computed
once and shared between the studies, and a study run again, or resumed after an interruption,
reuses every finished point.
"""
import csv
import hashlib
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

from .common import StudyError, atomic_write_json, atomic_write_text, tool

STUDIES = ("compression", "bits", "init", "precision", "pe-cost")
LENET_DENSITY = "0.08,0.09,0.26"  # Deep Compression Table 2 (LeNet-300-100)
SIZES = (784, 300, 100, 10)
INDEX_BITS = 4  # the image's relative-index width (arch default)


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
            self.dense_epochs, self.retrain, self.share, self.prune_steps = 1, 1, 1, 1
            self.pe_inputs = 20

    def grid(self, study):
        """The points of a study. The sizes overlap on purpose: quantisation-only points are the
        unpruned points of the bits study, the linear points of init are its pruned ones, and
        pe-cost uses precision's 16-bit network."""
        tiny, quick = self.name == "tiny", self.name == "quick"
        if study == "compression":
            return {"densities": [0.3, 0.1] if tiny else [0.5, 0.2, 0.05] if quick else [0.5, 0.3, 0.2, 0.1, 0.05, 0.03],
                    "q_bits": [4] if tiny else [8, 4, 2, 1] if quick else [8, 6, 5, 4, 3, 2, 1], "both_bits": 4}
        if study == "bits":
            return {"bits": [1, 4] if tiny else [1, 2, 3, 4, 8] if quick else list(range(1, 9))}
        if study == "init":
            return {"bits": [4] if tiny else [2, 3, 4, 6] if quick else list(range(2, 9))}
        if study == "precision":
            return {"widths": [8, 32] if tiny else [8, 16, 32] if quick else [8, 12, 16, 32]}
        return {"pes": [4, 16] if tiny else [4, 16, 64, 256] if quick else [4, 8, 16, 32, 64, 128, 256]}


class Runner:
    def __init__(self, out, size, jobs, log=print):
        self.out, self.size, self.jobs, self.log = out, size, jobs, log
        self.cache = os.path.join(out, "cache", size.name)
        os.makedirs(os.path.join(self.cache, "points"), exist_ok=True)

    def _run(self, cmd, what):
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise StudyError(f"{what} failed (exit {r.returncode}): {' '.join(cmd)}\n{r.stderr.strip()[-2000:]}")
        return r

    def dense(self):
        """The dense network, trained once per size, as an .npz the points import."""
        npz = os.path.join(self.cache, "dense.npz")
        if os.path.exists(npz):
            return npz
        self.log(f"accuracy-studies: training the dense network ({self.size.name})")
        ck = tempfile.mkdtemp(prefix=".dense-", dir=self.cache)
        try:
            self._run([tool("eie-train"), "--sizes", ",".join(map(str, SIZES)), "--epochs", str(self.size.dense_epochs),
                       "--stop-after", "dense", "--checkpoints", ck, "--no-easy", "-q", "--threads", "2"] + self.size.data,
                      "dense training")
            import numpy as np
            arrays = {}
            for k in range(1, len(SIZES)):
                arrays[f"w{k}"] = np.load(os.path.join(ck, "dense", f"fc{k}.weight.npy"))
                arrays[f"b{k}"] = np.load(os.path.join(ck, "dense", f"fc{k}.bias.npy"))
            state = json.load(open(os.path.join(ck, "dense", "state.json")))
            tmp = npz + ".tmp.npz"
            np.savez(tmp, **arrays)
            os.replace(tmp, npz)
            atomic_write_json(os.path.join(self.cache, "dense.json"), state)
        finally:
            shutil.rmtree(ck, ignore_errors=True)
        return npz

    def point(self, density, bits, init="linear", arch=(), keep_image=False):
        """One eie-train run from the dense network: its JSON report (cached by fingerprint)."""
        npz = self.dense()
        dense_only = str(density) == "1" or str(density) == "1.0"
        cmd = ["--import", npz, "--layers", "w1:b1,w2:b2,w3:b3", "--density", str(density), "--weight-bits", str(bits),
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
        tmp_img = img + ".tmp"
        shutil.rmtree(tmp_img, ignore_errors=True)
        extra = []
        if keep_image:  # and the trained weights (the checkpoints), outside the fingerprint
            ck = img + ".ck"
            shutil.rmtree(ck, ignore_errors=True)
            extra = ["--checkpoints", ck]
        self._run([tool("eie-train")] + cmd + extra + ["--threads", "2", "-q", "-o", tmp_img, "--json", rep + ".tmp"],
                  "eie-train")
        if keep_image:
            shutil.rmtree(img, ignore_errors=True)
            os.replace(tmp_img, img)
        else:
            shutil.rmtree(tmp_img, ignore_errors=True)
        os.replace(rep + ".tmp", rep)
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


def write_csv(path, header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([f"{v:.6g}" if isinstance(v, float) else v for v in r])
    atomic_write_text(path, buf.getvalue())


def save_figure(fig, directory, name):
    os.makedirs(directory, exist_ok=True)
    for ext in ("png", "svg"):
        tmp = os.path.join(directory, f".tmp-{name}.{ext}")
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format=ext)
        os.replace(tmp, os.path.join(directory, f"{name}.{ext}"))


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
    holds = pq > max(p, q)
    reading = (f"Within one point of the dense network ({100 * dense:.2f}%), pruning alone reaches {text(p)}, "
               f"quantisation alone {text(q)} and both together {text(pq)}: Deep Compression's finding that the "
               f"two work best combined {'holds' if holds else 'does not hold'} on Fashion-MNIST.")
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
    reading = (f"Accuracy stays within a point of its best down to {kd} bits without pruning and {kp} bits with "
               f"pruning: Deep Compression's finding that accuracy starts to drop at the same number of bits either "
               f"way {'holds' if abs(kd - kp) <= 1 else 'does not hold'} on Fashion-MNIST (to within one bit).")
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
    wins = {}
    for b in g["bits"]:
        by = {r[0]: r[2] for r in rows if r[1] == b}
        wins[b] = max(by, key=lambda k: (by[k], k == "linear"))
    lin = [b for b, w in wins.items() if w == "linear"]
    reading = (f"Linear initialisation gives the best accuracy at {len(lin)} of {len(wins)} bit widths "
               f"({', '.join(f'{b}: {w}' for b, w in wins.items())}): Deep Compression's finding that linear is "
               f"best except around 3 bits {'holds' if len(lin) >= len(wins) - 1 else 'does not hold'} on "
               f"Fashion-MNIST.")
    return ["init", "weight_bits", "accuracy"], rows, reading


def study_precision(run, g, d):
    rows = []
    for w in g["widths"]:
        arch = () if w == 16 else (f"act_bits={w}", f"codebook_value_bits={w}")  # 16: the default datapath
        rep, _ = run.point(LENET_DENSITY, 4, "linear", arch)
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
    parts, holds = [], True
    if 16 in by:
        parts.append(f"16-bit fixed point is {100 * (by[16] - ref):+.2f} points from float")
        holds &= abs(by[16] - ref) <= 0.005
    if 8 in by:
        parts.append(f"8-bit {100 * (by[8] - ref):+.2f} points")
        holds &= by[8] < ref - 0.005
    reading = (f"{', '.join(parts)}: EIE's finding (16-bit within 0.5% of float, 8-bit far worse) "
               f"{'holds' if holds else 'does not hold'} on Fashion-MNIST.")
    return ["bits", "accuracy_fixed_point", "accuracy_float"], rows, reading


def _sim_stats(run, img, pes, extra, what):
    fd, stats = tempfile.mkstemp(prefix=".stats-", suffix=".json", dir=run.cache)
    os.close(fd)
    try:
        jobs = ["--jobs", str(run.jobs)] if "--inputs" in extra else []
        run._run([tool("eie-sim"), img, "--pes", str(pes), "--stats", stats] + jobs + extra, what)
        return json.load(open(stats))
    finally:
        os.unlink(stats)


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


def study_pe_cost(run, g, d):
    rep, img = run.point(LENET_DENSITY, 4, "linear", (), keep_image=True)
    test = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
    n = run.size.pe_inputs
    manifest = json.load(open(os.path.join(img, "manifest.json")))
    act_dens = activation_densities(img + ".ck", n)
    rows = []
    for pes in g["pes"]:
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
            syn = os.path.join(run.cache, f".syn-{pes}-{k}")
            shutil.rmtree(syn, ignore_errors=True)
            run._run([tool("eie-compress"), "--synthetic", f"{in_len},{out_len}", "--weight-density", f"{w:.6f}",
                      "--act-density", f"{a:.6f}", "--pes", str(pes), "--weight-bits", "4", "-o", syn, "-q"],
                     "eie-compress (synthetic)")
            ss = _sim_stats(run, syn, pes, [], "eie-sim (synthetic)")
            shutil.rmtree(syn, ignore_errors=True)
            syn_cycles += ss["totals"]["cycles"]
            syn_energy += ss["totals"]["energy"]["total_pj"]
        rows.append([pes, cycles, energy, syn_cycles, syn_energy, ";".join(f"{a:.3f}" for a in act_dens)])
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
    holds = max(dc) <= 0.25 and max(de) <= 0.25
    reading = (f"Across {x[0]} to {x[-1]} PEs, synthetic layers at the trained network's weight and activation "
               f"densities give its cycles per inference to within {100 * max(dc):.0f}% and its energy to within "
               f"{100 * max(de):.0f}%, so the finding that the synthetic generator predicts real pruned layers "
               f"(to 25%) {'holds' if holds else 'does not hold'} on Fashion-MNIST, and the cost "
               f"{'falls' if rows[-1][1] < rows[0][1] else 'does not fall'} with more PEs as in EIE's scaling study.")
    return ["num_pes", "cycles", "energy_pj", "synthetic_cycles", "synthetic_energy_pj", "act_density"], rows, reading


RUNNERS = {"compression": study_compression, "bits": study_bits, "init": study_init, "precision": study_precision,
           "pe-cost": study_pe_cost}
TITLES = {"compression": "Accuracy vs compression rate (Deep Compression Fig. 6)",
          "bits": "Accuracy vs weight bits, with and without pruning (Deep Compression Fig. 7)",
          "init": "k-means initialisation (Deep Compression Fig. 8)",
          "precision": "Accuracy vs datapath precision (EIE Fig. 10)",
          "pe-cost": "Cycles and energy of the trained network across PE counts, and the synthetic prediction"}
