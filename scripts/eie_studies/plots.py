"""The standard figures of the architecture studies, made from whatever varies in a results CSV.

Each figure is written as PNG and SVG, and comes with one sentence, computed from the data, that
says what it shows (scripts/report puts it under the figure). docs/studies.md describes each figure.
"""
import math
import os

from . import params
from .common import ensure_matplotlib

COMPONENT_PREFIX = "energy_component_pj_"
# Readable names of the energy model's components (hw/model/energy_model.hpp).
COMPONENT_LABELS = {
    "spmat_sram": "sparse-matrix SRAM", "pointer_sram": "pointer SRAM", "codebook": "codebook",
    "arith_mult": "multiplier", "arith_add": "adder", "dst_regfile": "destination reg. file",
    "src_regfile": "source reg. file", "act_sram": "activation SRAM", "act_queue": "activation queue",
    "lnzd": "LNZD tree", "clock": "clock network", "leakage": "leakage",
}
MARKERS = "osD^v<>ph*"


def _plt():
    ensure_matplotlib()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"font.size": 10, "axes.grid": True, "grid.alpha": 0.3, "figure.dpi": 110,
                         "svg.fonttype": "none"})
    return plt


def varying(rows, names=None):
    """Configuration parameters (and placement) with more than one value among the rows of one
    benchmark. Values a benchmark's spec fixes for itself (e.g. VGG-6's pointer width) differ between
    benchmarks but are not swept, so they do not count."""
    by_bench = {}
    for r in rows:
        by_bench.setdefault(r["benchmark"], []).append(r)
    out = []
    for n in (names or params.names()) + ["placement"]:
        if any(len({r.get(n) for r in rs}) > 1 for rs in by_bench.values()):
            out.append(n)
    return out


def _ok(rows):
    return [r for r in rows if r.get("status") == "ok" and r.get("cycles")]


def _series(rows, x, others):
    """Groups rows into lines: one per benchmark and combination of the other varying parameters."""
    groups = {}
    for r in rows:
        key = (r["benchmark"],) + tuple(r.get(o) for o in others)
        groups.setdefault(key, []).append(r)
    for k in groups:
        groups[k].sort(key=lambda r: r[x])
    return groups


def _label(key, others, titles):
    name = titles.get(key[0], key[0])
    extra = ", ".join(f"{o}={params.fmt_value(v)}" for o, v in zip(others, key[1:]))
    return f"{name} ({extra})" if extra else name


def _save(fig, out_dir, name):
    png = os.path.join(out_dir, name + ".png")
    svg = os.path.join(out_dir, name + ".svg")
    for path in (png, svg):
        tmp = os.path.join(out_dir, ".tmp-" + os.path.basename(path))
        fig.savefig(tmp, bbox_inches="tight", format=path.rsplit(".", 1)[1])
        os.replace(tmp, path)
    return png


def _legend(ax, n):
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, fontsize=9,
              ncol=1 if n <= 14 else 2, frameon=False)


def _log2_axis(ax, values):
    ax.set_xscale("log", base=2)
    vals = sorted(set(values))
    ax.set_xticks(vals)
    ax.set_xticklabels([params.fmt_value(v) for v in vals])
    ax.minorticks_off()


def _pct(v):
    return f"{100 * v:.0f}%"


def fig_queue_depth(plt, rows, out_dir, titles, others):
    groups = _series(rows, "queue_depth", others)
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for i, (key, rs) in enumerate(groups.items()):
        ax.plot([r["queue_depth"] for r in rs], [100 * r["load_balance_efficiency"] for r in rs],
                marker=MARKERS[i % len(MARKERS)], ms=4, label=_label(key, others, titles))
    _log2_axis(ax, [r["queue_depth"] for r in rows])
    ax.set_xlabel("activation queue depth (entries per PE)")
    ax.set_ylabel("load-balance efficiency (%)")
    ax.set_title("Load-balance efficiency vs activation queue depth")
    _legend(ax, len(groups))
    path = _save(fig, out_dir, "load_balance_vs_queue_depth")
    plt.close(fig)
    depths = sorted({r["queue_depth"] for r in rows})
    lo, hi = depths[0], depths[-1]
    mid = 8 if 8 in depths else depths[len(depths) // 2]

    def mean_at(d):
        v = [r["load_balance_efficiency"] for r in rows if r["queue_depth"] == d]
        return sum(v) / len(v)

    text = (f"Load-balance efficiency (1 - starved cycles / cycles, averaged over PEs) rises with the queue depth: "
            f"averaged over the {len(groups)} lines it is {_pct(mean_at(lo))} at depth {lo}, {_pct(mean_at(mid))} "
            f"at depth {mid} and {_pct(mean_at(hi))} at depth {hi}, so deeper queues than {mid} buy little.")
    return path, text


def fig_pe_scaling(plt, rows, out_dir, titles, others):
    groups = _series(rows, "num_pes", others)
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    ref_pes = min(r["num_pes"] for r in rows)
    pes = sorted({r["num_pes"] for r in rows})
    finals = []
    for i, (key, rs) in enumerate(groups.items()):
        base = next((r for r in rs if r["num_pes"] == ref_pes), None)
        if base is None:
            continue
        sp = [base["cycles"] / r["cycles"] for r in rs]
        ax.plot([r["num_pes"] for r in rs], sp, marker=MARKERS[i % len(MARKERS)], ms=4,
                label=_label(key, others, titles))
        finals.append((sp[-1] / (rs[-1]["num_pes"] / ref_pes), titles.get(key[0], key[0]), sp[-1]))
    ax.plot(pes, [p / ref_pes for p in pes], "k--", lw=1, label="ideal (linear)")
    _log2_axis(ax, pes)
    ax.set_yscale("log", base=2)
    top = max(max(p / ref_pes for p in pes), max(f[2] for f in finals) if finals else 1)
    yt = [2 ** k for k in range(0, int(math.ceil(math.log2(max(top, 1)))) + 1)]
    ax.set_yticks(yt)
    ax.set_yticklabels([str(v) for v in yt])
    ax.set_xlabel("number of PEs")
    ax.set_ylabel(f"speedup over {ref_pes} PE{'s' if ref_pes > 1 else ''} (cycles ratio)")
    ax.set_title("Speedup vs number of PEs (log-log)")
    _legend(ax, len(groups) + 1)
    path = _save(fig, out_dir, "speedup_vs_pes")
    plt.close(fig)
    finals.sort()
    worst, best = finals[0], finals[-1]
    text = (f"Speedup relative to {ref_pes} PE{'s' if ref_pes > 1 else ''} against the ideal linear line: at "
            f"{pes[-1]} PEs the best layer ({best[1]}) reaches {best[2]:.0f}x ({_pct(best[0])} of linear) and the "
            f"worst ({worst[1]}) {worst[2]:.0f}x ({_pct(worst[0])} of linear).")
    return path, text


def fig_real_work(plt, rows, out_dir, titles, others):
    groups = _series(rows, "num_pes", others)
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for i, (key, rs) in enumerate(groups.items()):
        ax.plot([r["num_pes"] for r in rs], [100 * r["real_work_ratio"] for r in rs],
                marker=MARKERS[i % len(MARKERS)], ms=4, label=_label(key, others, titles))
    _log2_axis(ax, [r["num_pes"] for r in rows])
    ax.set_xlabel("number of PEs")
    ax.set_ylabel("real work / total work (%)")
    ax.set_title("Real work (non-padding entries) / all issued entries vs number of PEs")
    _legend(ax, len(groups))
    path = _save(fig, out_dir, "real_work_vs_pes")
    plt.close(fig)
    lo = min(rows, key=lambda r: r["real_work_ratio"])
    text = (f"Real work / total work is the share of issued entries that are not padding; it is lowest for "
            f"{titles.get(lo['benchmark'], lo['benchmark'])} at {lo['num_pes']} PEs ({_pct(lo['real_work_ratio'])}) "
            f"and rises to 100% when a PE's rows are so few that no zero run exceeds the relative index range.")
    return path, text


def fig_sram_width(plt, rows, out_dir, titles, others):
    groups = _series(rows, "spmat_line_bits", others)
    have_energy = all(r.get(COMPONENT_PREFIX + "spmat_sram") is not None for r in rows)
    ncols = 2 if have_energy else 1
    fig, axes = plt.subplots(1, ncols, figsize=(6.0 * ncols + 2.0, 4.2), squeeze=False)
    axes = axes[0]
    for i, (key, rs) in enumerate(groups.items()):
        xs = [r["spmat_line_bits"] for r in rs]
        m = MARKERS[i % len(MARKERS)]
        lab = _label(key, others, titles)
        if have_energy:
            axes[0].plot(xs, [r[COMPONENT_PREFIX + "spmat_sram"] / 1e6 for r in rs], marker=m, ms=4, label=lab)
        axes[-1].plot(xs, [r["total_spmat_line_reads"] for r in rs], marker=m, ms=4, label=lab)
    widths = [r["spmat_line_bits"] for r in rows]
    if have_energy:
        axes[0].set_ylabel("sparse-matrix SRAM read energy (uJ)")
        axes[0].set_title("Read energy vs SRAM width")
    axes[-1].set_ylabel("sparse-matrix SRAM line reads (all PEs)")
    axes[-1].set_title("Number of reads vs SRAM width")
    for ax in axes:
        _log2_axis(ax, widths)
        ax.set_yscale("log")
        ax.set_xlabel("sparse-matrix SRAM line width (bits)")
    _legend(axes[-1], len(groups))
    fig.tight_layout()
    path = _save(fig, out_dir, "spmat_vs_sram_width")
    plt.close(fig)
    best_counts = {}
    for key, rs in groups.items():
        metric = (lambda r: r[COMPONENT_PREFIX + "spmat_sram"]) if have_energy else (lambda r: r["total_spmat_line_reads"])
        b = min(rs, key=metric)["spmat_line_bits"]
        best_counts[b] = best_counts.get(b, 0) + 1
    best = max(best_counts.items(), key=lambda kv: kv[1])
    what = "read energy" if have_energy else "read count"
    text = (f"Wider sparse-matrix SRAM lines need fewer line reads but each read costs more; the {what} is "
            f"lowest at {best[0]}-bit lines for {best[1]} of the {len(groups)} layers "
            f"(energy per read from the energy model's width scaling, docs/energy-area.md).")
    return path, text


def fig_bars(plt, rows, out_dir, titles):
    rows = list(rows)
    names = [titles.get(r["benchmark"], r["benchmark"]) for r in rows]
    have_energy = all(r.get("energy_uj") is not None for r in rows)
    ncols = 2 if have_energy else 1
    fig, axes = plt.subplots(1, ncols, figsize=(5.5 * ncols, 4.0), squeeze=False)
    axes = axes[0]
    xs = range(len(rows))
    axes[0].bar(xs, [r["time_us"] for r in rows], color="tab:blue")
    axes[0].set_ylabel("time per layer (us)")
    axes[0].set_title(f"Time at {params.fmt_value(rows[0]['clock_mhz'])} MHz")
    if have_energy:
        axes[1].bar(xs, [r["energy_uj"] for r in rows], color="tab:orange")
        axes[1].set_ylabel("energy per layer (uJ)")
        axes[1].set_title("Energy")
    for ax in axes:
        ax.set_xticks(list(xs))
        ax.set_xticklabels(names, rotation=45, ha="right")
        ax.grid(axis="x", visible=False)
    fig.tight_layout()
    path = _save(fig, out_dir, "benchmarks_time_energy")
    plt.close(fig)
    slow = max(rows, key=lambda r: r["time_us"])
    fast = min(rows, key=lambda r: r["time_us"])
    text = (f"Time (and energy) of each benchmark layer at one configuration: from "
            f"{fast['time_us']:.1f} us ({titles.get(fast['benchmark'], fast['benchmark'])}) to "
            f"{slow['time_us']:.1f} us ({titles.get(slow['benchmark'], slow['benchmark'])})")
    if have_energy:
        big = max(rows, key=lambda r: r["energy_uj"])
        text += f"; energy peaks at {big['energy_uj']:.1f} uJ for {titles.get(big['benchmark'], big['benchmark'])}"
    return path, text + "."


def fig_breakdown(plt, rows, out_dir, titles):
    rows = list(rows)
    comps = [k[len(COMPONENT_PREFIX):] for k in rows[0] if k.startswith(COMPONENT_PREFIX)]
    comps = [c for c in comps if any((r.get(COMPONENT_PREFIX + c) or 0) > 0 for r in rows)]
    totals = {c: sum(r[COMPONENT_PREFIX + c] for r in rows) for c in comps}
    comps.sort(key=lambda c: -totals[c])
    names = [titles.get(r["benchmark"], r["benchmark"]) for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(12.0, 4.4))
    cmap = plt.get_cmap("tab20")
    xs = list(range(len(rows)))
    for ax, share in ((axes[0], False), (axes[1], True)):
        bottom = [0.0] * len(rows)
        for i, c in enumerate(comps):
            vals = []
            for r in rows:
                v = r[COMPONENT_PREFIX + c] / 1e6
                if share:
                    tot = sum(r[COMPONENT_PREFIX + k] for k in comps) / 1e6
                    v = 100 * v / tot if tot else 0
                vals.append(v)
            ax.bar(xs, vals, bottom=bottom, color=cmap(i % 20), label=COMPONENT_LABELS.get(c, c))
            bottom = [b + v for b, v in zip(bottom, vals)]
        ax.set_xticks(xs)
        ax.set_xticklabels(names, rotation=45, ha="right")
        ax.grid(axis="x", visible=False)
    axes[0].set_ylabel("energy per layer (uJ)")
    axes[0].set_title("Energy by component")
    axes[1].set_ylabel("share of the layer's energy (%)")
    axes[1].set_title("Energy breakdown (shares)")
    axes[1].set_ylim(0, 100)
    _legend(axes[1], len(comps))
    fig.tight_layout()
    path = _save(fig, out_dir, "energy_breakdown")
    plt.close(fig)
    grand = sum(totals.values())
    top = comps[:2]
    text = (f"Energy split by component (stacked): over the {len(rows)} layers the largest parts are "
            + " and ".join(f"{COMPONENT_LABELS.get(c, c)} ({_pct(totals[c] / grand)})" for c in top)
            + " of the total.")
    return path, text


def make_plots(rows, out_dir, titles=None):
    """Makes every figure the rows support. Returns [(png path, sentence)]."""
    titles = titles or {}
    os.makedirs(out_dir, exist_ok=True)
    plt = _plt()
    ok = _ok(rows)
    made = []
    if not ok:
        return made
    vary = [v for v in varying(ok) if v != "placement"] + (["placement"] if "placement" in varying(ok) else [])
    for x, fns in (("queue_depth", [fig_queue_depth]), ("num_pes", [fig_pe_scaling, fig_real_work]),
                   ("spmat_line_bits", [fig_sram_width])):
        if x in vary:
            others = [v for v in vary if v != x]
            for fn in fns:
                made.append(fn(plt, ok, out_dir, titles, others))
    if not vary:
        made.append(fig_bars(plt, ok, out_dir, titles))
        if any(k.startswith(COMPONENT_PREFIX) for k in ok[0]):
            made.append(fig_breakdown(plt, ok, out_dir, titles))
    return made


def has_value(v):
    return v is not None and not (isinstance(v, float) and math.isnan(v))
