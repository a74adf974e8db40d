"""The standard figures of the architecture studies, made from whatever varies in a results CSV.

Each figure is written as PNG and SVG and comes with one sentence, computed from the data, that
says what it shows (scripts/plot prints it, scripts/report puts it under the figure). The numbers
behind the sentences are also returned, so the report can compare them with the paper without
reading them off a picture. docs/studies.md ("Figures") describes each figure and its formula.

Which figures are made depends on the configuration columns that vary within a benchmark:
  queue_depth      load_balance_vs_queue_depth
  num_pes          speedup_vs_pes, real_work_vs_pes
  spmat_line_bits  spmat_vs_sram_width
  (always)         benchmarks_time_energy, energy_breakdown, at one configuration
A parameter that another benchmark fixes for itself (VGG-6's pointer width) is not "varying".
"""
import math
import os

from . import params
from .common import ensure_matplotlib

COMPONENT_PREFIX = "energy_component_pj_"
# Readable names of the energy model's components (hw/model/energy_model.hpp, docs/energy-area.md).
COMPONENT_LABELS = {
    "spmat_sram": "sparse-matrix SRAM", "pointer_sram": "pointer SRAM", "codebook": "codebook",
    "arith_mult": "multiplier", "arith_add": "adder", "dst_regfile": "destination reg. file",
    "src_regfile": "source reg. file", "act_sram": "activation SRAM", "act_queue": "activation queue",
    "lnzd": "LNZD tree", "clock": "clock network", "leakage": "leakage",
}
# Nine benchmarks must stay apart in print and for colour-blind readers: colour and marker both
# change from one benchmark to the next (tab10 has ten colours, there are twelve markers).
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
          "#bcbd22", "#17becf"]
MARKERS = ["o", "s", "D", "^", "v", "P", "X", "h", "*", "<", ">", "p"]
# Lines of one benchmark that differ in another varying parameter differ in line style.
# Eight patterns that stay apart in print; beyond eight values the marker size changes as well.
LINESTYLES = ["-", (0, (6, 2)), (0, (1, 1.5)), (0, (6, 2, 1, 2)), (0, (10, 3)), (0, (3, 1.5, 1, 1.5, 1, 1.5)),
              (0, (2, 3)), (0, (10, 2, 2, 2, 2, 2))]
# The paper's per-layer times at its configuration (EIE Table IV, "EIE actual time", batch 1, 64 PEs,
# 800 MHz; docs/reference.md), by the benchmark names of traces/benchmarks/.
PUBLISHED_TIME_US = {"alex6": 30.3, "alex7": 12.2, "alex8": 9.9, "vgg6": 34.4, "vgg7": 8.7, "vgg8": 8.4,
                     "ntwe": 8.0, "ntwd": 13.9, "ntlstm": 7.5}
PAPER_QUEUE_KNEE = 8        # EIE Figure 8 (docs/reference.md): little gain beyond depth 8
PAPER_BEST_WIDTH = 64       # EIE Figure 9 (docs/reference.md): 64-bit lines minimise read energy

# (figure name, the parameter it needs to vary or None, what it shows)
FIGURES = [
    ("load_balance_vs_queue_depth", "queue_depth", "load-balance efficiency vs activation queue depth"),
    ("speedup_vs_pes", "num_pes", "speedup vs number of PEs (log-log, with the ideal linear line)"),
    ("real_work_vs_pes", "num_pes", "real work / total work vs number of PEs"),
    ("spmat_vs_sram_width", "spmat_line_bits", "sparse-matrix SRAM read energy and read count vs line width"),
    ("benchmarks_time_energy", None, "time and energy per benchmark at one configuration"),
    ("energy_breakdown", None, "energy by component per benchmark (stacked)"),
]


# The columns each figure reads (besides benchmark and status); a CSV without one of them, or with
# it empty in a successful row, skips that figure with the reason.
NEEDS = {
    "load_balance_vs_queue_depth": ["queue_depth", "load_balance_efficiency"],
    "speedup_vs_pes": ["num_pes", "cycles"],
    "real_work_vs_pes": ["num_pes", "real_work_ratio"],
    "spmat_vs_sram_width": ["spmat_line_bits", "total_spmat_line_reads"],
    "benchmarks_time_energy": ["time_us", "clock_mhz"],
    "energy_breakdown": ["time_us", "clock_mhz", "energy_uj"],
}


def missing_columns(rows, name):
    """The columns figure `name` needs that the rows lack (absent, or empty in some row)."""
    return [c for c in NEEDS.get(name, []) if any(r.get(c) is None for r in rows)]


def _missing_reason(rows, name):
    cols = missing_columns(rows, name)
    absent = [c for c in cols if all(c not in r for r in rows)]
    empty = [c for c in cols if c not in absent]
    parts = []
    if absent:
        parts.append(f"the CSV has no column {', '.join(absent)}")
    if empty:
        parts.append(f"column {', '.join(empty)} is empty in some successful rows")
    return " and ".join(parts) + " (needed by this figure)"


class Figure:
    """One figure made: files, a title, the sentence that reads it and the numbers behind it."""

    def __init__(self, name, png, svg, title, sentence, facts=None):
        self.name, self.png, self.svg, self.title, self.sentence = name, png, svg, title, sentence
        self.facts = facts or {}


def _plt():
    ensure_matplotlib()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"font.size": 10, "axes.grid": True, "grid.alpha": 0.3, "figure.dpi": 120,
                         "savefig.dpi": 120, "svg.fonttype": "none", "legend.fontsize": 9,
                         "axes.titlesize": 11, "lines.linewidth": 1.4})
    return plt


# ---------------------------------------------------------------- analysis of the rows

def ok_rows(rows):
    return [r for r in rows if r.get("status") == "ok" and r.get("cycles")]


def bench_order(rows):
    seen = []
    for r in rows:
        if r["benchmark"] not in seen:
            seen.append(r["benchmark"])
    return seen


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


def series(rows, x, others):
    """Groups rows into lines: one per benchmark and combination of the other varying parameters,
    each sorted by x. Keys are (benchmark, other values...), in benchmark order."""
    groups = {}
    for r in rows:
        key = (r["benchmark"],) + tuple(r.get(o) for o in others)
        groups.setdefault(key, []).append(r)
    for k in groups:
        groups[k].sort(key=lambda r: r[x])
    order = {b: i for i, b in enumerate(bench_order(rows))}
    return dict(sorted(groups.items(), key=lambda kv: (order[kv[0][0]],) + tuple(value_key(v) for v in kv[0][1:])))


def value_key(v):
    """Sort key of a parameter value: numbers in numeric order (16 before 64 before 256), then text."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (0, float(v), "")
    return (1, 0.0, str(v))


def mean_at(rows, x, value, metric):
    vals = [r[metric] for r in rows if r[x] == value and r.get(metric) is not None]
    return sum(vals) / len(vals) if vals else float("nan")


def speedups(rows, others=()):
    """Speedup of every line over its point at the smallest PE count of the whole CSV (normally 1):
    cycles at the reference / cycles at N. Returns (reference PE count, {key: [(N, speedup)]},
    keys without a reference point)."""
    ref = min(r["num_pes"] for r in rows)
    out, missing = {}, []
    for key, rs in series(rows, "num_pes", list(others)).items():
        base = next((r for r in rs if r["num_pes"] == ref), None)
        if base is None:
            missing.append(key)
            continue
        out[key] = [(r["num_pes"], base["cycles"] / r["cycles"]) for r in rs]
    return ref, out, missing


def spmat_energy_pj(r):
    return r.get(COMPONENT_PREFIX + "spmat_sram")


def has_energy(rows):
    return bool(rows) and all(r.get("energy_uj") is not None for r in rows)


def fixed_configuration(rows, vary):
    """One configuration out of a sweep, for the per-benchmark bars: each varying parameter at its
    default (the paper configuration) when the CSV has it, otherwise at its smallest value.
    Returns (rows of that configuration, a description such as '64 PEs, queue_depth=4')."""
    table = params.by_name()
    chosen = {}
    for v in vary:
        values = sorted({r.get(v) for r in rows}, key=lambda x: (str(type(x)), x))
        default = table[v].default if v in table else "uniform"
        chosen[v] = default if default in values else values[0]
    sel = [r for r in rows if all(r.get(v) == c for v, c in chosen.items())]
    return sel, describe_configuration(sel)


def describe_configuration(rows):
    """'paper configuration, 64 PEs' or 'N PEs, name=value, ...' listing the parameters that
    differ from hw/arch_config.hpp's defaults and are the same for every row (a benchmark's own
    overrides, such as VGG-6's pointer width, differ between rows and are left out)."""
    diffs = []
    for p in params.table():
        vals = {r.get(p.name) for r in rows}
        if len(vals) == 1:
            v = vals.pop()
            if v is not None and v != p.default:
                diffs.append((p.name, v))
    pes = sorted({r.get("num_pes") for r in rows if r.get("num_pes") is not None})
    pes_text = "/".join(str(n) for n in pes) + " PEs"
    if not diffs:
        return f"paper configuration, {pes_text}"
    rest = [f"{n}={params.fmt_value(v)}" for n, v in diffs if n != "num_pes"]
    return ", ".join([pes_text] + rest)


def energy_unit(values_pj):
    """A unit in which the largest value reads between 1 and 1000: (divisor from pJ, name)."""
    top = max((abs(v) for v in values_pj if v is not None), default=0.0)
    for div, name in ((1e9, "mJ"), (1e6, "\u00b5J"), (1e3, "nJ")):
        if top >= div:
            return div, name
    return 1.0, "pJ"


# ---------------------------------------------------------------- drawing helpers

class Styles:
    """Colour and marker per benchmark (the same in every figure), line style per combination of
    the other varying parameters."""

    def __init__(self, rows):
        self.bench = {b: i for i, b in enumerate(bench_order(rows))}
        self.combos = {}

    def __call__(self, key):
        i = self.bench.get(key[0], 0)
        j = self.combos.setdefault(key[1:], len(self.combos))
        color = COLORS[i % len(COLORS)]
        # Every other benchmark has hollow markers, drawn above the filled ones, so two benchmarks
        # with the same values (Alex-6 and Alex-7 often are) both stay visible.
        hollow = i % 2 == 1
        size = (7.5 if hollow else 5) + 2.5 * (j // len(LINESTYLES))
        return {"color": color, "marker": MARKERS[i % len(MARKERS)], "linestyle": LINESTYLES[j % len(LINESTYLES)],
                "markersize": size, "markerfacecolor": "none" if hollow else color,
                "markeredgewidth": 1.2 if hollow else 1.0, "zorder": 3 if hollow else 2}


def _name(titles, bench):
    return titles.get(bench, bench)


def _label(key, others, titles):
    extra = ", ".join(f"{o}={params.fmt_value(v)}" for o, v in zip(others, key[1:]))
    return f"{_name(titles, key[0])} ({extra})" if extra else _name(titles, key[0])


def _save(fig, out_dir, name):
    """PNG and SVG into out_dir, a staging directory of the caller's (common.atomic_files or
    atomic_directory), which publishes them whole: no half-written figure under a final name."""
    paths = []
    for ext in ("png", "svg"):
        path = os.path.join(out_dir, f"{name}.{ext}")
        fig.savefig(path, bbox_inches="tight", pad_inches=0.1, format=ext)
        paths.append(path)
    return paths


def context(rows, x=None):
    """What drives a figure besides its x axis, for its title: the PE count(s) and the placement of
    the non-zeros, and whether the encoder grew memories (grow_memories) for some points."""
    parts = []
    if x != "num_pes":
        pes = sorted({r["num_pes"] for r in rows if r.get("num_pes") is not None})
        if pes:
            parts.append("/".join(str(p) for p in pes) + (" PE" if pes == [1] else " PEs"))
    places = sorted({r["placement"] for r in rows if r.get("placement")})
    if places:
        parts.append("/".join(places) + " placement")
    if any(r.get("grow_memories") is True for r in rows):
        parts.append("memories grown where needed")
    return ", ".join(parts)


def _titled(title, rows, x=None):
    ctx = context(rows, x)
    return f"{title}\n({ctx})" if ctx else title


def _legend_right(ax, n, handles=None, labels=None):
    """The legend outside the axes, on the right: nine benchmark lines never hide data."""
    kw = dict(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, frameon=False,
              ncol=1 if n <= 16 else 2)
    if handles is not None:
        ax.legend(handles, labels, **kw)
    else:
        ax.legend(**kw)


def _log2_axis(ax, values, axis="x"):
    vals = sorted(set(values))
    if axis == "x":
        ax.set_xscale("log", base=2)
        ax.set_xticks(vals)
        ax.set_xticklabels([params.fmt_value(v) for v in vals])
        ax.xaxis.set_minor_locator(_null_locator())
    else:
        ax.set_yscale("log", base=2)
        ax.set_yticks(vals)
        ax.set_yticklabels([params.fmt_value(v) for v in vals])
        ax.yaxis.set_minor_locator(_null_locator())


def _null_locator():
    from matplotlib.ticker import NullLocator
    return NullLocator()


def _pct(v):
    return f"{100 * v:.1f}%"


def _finish(plt, fig, out_dir, name, title, sentence, facts=None):
    png, svg = _save(fig, out_dir, name)
    plt.close(fig)
    return Figure(name, png, svg, title, sentence, facts)


def _log10_axis(ax, values):
    """A decimal log y axis labelled at 1, 2 and 5 times each power of ten inside the data, in
    plain numbers (10^4 alone does not let anyone read a value off a line)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
    ax.set_yscale("log")
    vals = [v for v in values if v and v > 0]
    lo, hi = min(vals), max(vals)
    ticks = []
    # 1-2-5 per decade; denser when the data spans less than a few of those steps.
    for mults in ((1, 2, 5), (1, 1.5, 2, 3, 4, 5, 6, 8), (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)):
        ticks = [m * 10.0 ** e for e in range(int(math.floor(math.log10(lo))) - 1, int(math.ceil(math.log10(hi))) + 1)
                 for m in mults if lo / 1.25 <= m * 10.0 ** e <= hi * 1.25]
        if len(ticks) >= 4:
            break
    if len(ticks) < 2:
        ticks = [lo, hi]
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _fmt_num(v)))
    ax.set_ylim(lo / 1.3, hi * 1.3)


def _fmt_num(v):
    """3 significant digits, thousands separated, no exponent: 0.25, 7.53, 19.1, 1,240, 62,000."""
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}" if abs(v) < 1e5 else f"{float(f'{v:.3g}'):,.0f}"
    return f"{v:.3g}"


def _percent_ylim(ax, values_pct):
    lo = min(values_pct)
    ax.set_ylim(max(0.0, math.floor((lo - 5) / 10) * 10), 102)


def _percent_lines(plt, rows, others, titles, x, y, xlabel, ylabel, title):
    """100 * y against x on a log2 axis. One benchmark parameter at a time: one panel, a line per
    benchmark. When another parameter varies too (others), small multiples: a panel per benchmark,
    a line per value of the others, so lines of different benchmarks never lie on top of each other.
    Returns (fig, the panels, the panel whose lines the legend lists, x values, lines)."""
    groups = series(rows, x, others)
    xs = sorted({r[x] for r in rows})
    benches = bench_order(rows)
    if others and len(benches) > 1:
        fig, panels = _benchmark_panels(plt, benches)
        combos = sorted({k[1:] for k in groups}, key=lambda c: tuple(value_key(v) for v in c))
        for b, ax in zip(benches, panels):
            for j, combo in enumerate(combos):
                rs = groups.get((b,) + combo)
                if rs:
                    ax.plot([r[x] for r in rs], [100 * r[y] for r in rs], color=COLORS[j % len(COLORS)],
                            marker=MARKERS[j % len(MARKERS)], linestyle=LINESTYLES[j % len(LINESTYLES)],
                            markersize=4.5, label=", ".join(f"{o}={params.fmt_value(v)}" for o, v in zip(others, combo)))
            ax.set_title(_name(titles, b), fontsize=10)
        for ax in panels[len(benches):]:
            ax.set_visible(False)
        panels = panels[:len(benches)]
        for ax in panels:
            _log2_axis(ax, xs)
        _percent_ylim(panels[0], [100 * r[y] for r in rows])
        fig.supxlabel(xlabel, fontsize=10)
        fig.supylabel(ylabel, fontsize=10)
        fig.suptitle(_titled(title, rows, x), fontsize=11)
        legend_panel = max(panels, key=lambda a: len(a.get_lines()))
        return fig, panels, legend_panel, xs, groups
    style = Styles(rows)
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    for key, rs in groups.items():
        ax.plot([r[x] for r in rs], [100 * r[y] for r in rs], label=_label(key, others, titles), **style(key))
    _log2_axis(ax, xs)
    _percent_ylim(ax, [100 * r[y] for r in rows])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(_titled(title, rows, x))
    return fig, [ax], ax, xs, groups


def _legend_outside(fig, panels, legend_panel):
    """The legend right of the figure: the lines of the fullest panel (every panel has the same
    line styles), plus the reference lines."""
    handles, labels = legend_panel.get_legend_handles_labels()
    if len(panels) == 1:
        _legend_right(legend_panel, len(handles), handles, labels)
    else:
        fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)


def fig_queue_depth(plt, rows, out_dir, titles, others):
    title = "Load-balance efficiency vs activation queue depth"
    fig, panels, legend_panel, depths, groups = _percent_lines(
        plt, rows, others, titles, "queue_depth", "load_balance_efficiency", "activation queue depth (entries per PE)",
        "load-balance efficiency (% of cycles not starved)", title)
    if depths[0] <= PAPER_QUEUE_KNEE <= depths[-1]:
        for ax in panels:
            ax.axvline(PAPER_QUEUE_KNEE, color="0.35", linestyle=":", linewidth=1.0, zorder=1,
                       label=f"paper's choice (depth {PAPER_QUEUE_KNEE})" if ax is legend_panel else None)
    if len(panels) > 1:
        fig.tight_layout()
    _legend_outside(fig, panels, legend_panel)
    lo, hi = depths[0], depths[-1]
    knee = PAPER_QUEUE_KNEE if PAPER_QUEUE_KNEE in depths[1:-1] else depths[len(depths) // 2]
    at = {d: mean_at(rows, "queue_depth", d, "load_balance_efficiency") for d in depths}
    first = [r for r in rows if r["queue_depth"] == lo]
    worst = min(first, key=lambda r: r["load_balance_efficiency"])
    best = max(first, key=lambda r: r["load_balance_efficiency"])
    spread = (f"at depth {lo} it ranges from {_pct(worst['load_balance_efficiency'])} "
              f"({_name(titles, worst['benchmark'])}) to {_pct(best['load_balance_efficiency'])} "
              f"({_name(titles, best['benchmark'])})")
    facts = {"depths": depths, "mean": at, "knee": knee, "lo": lo, "hi": hi,
             "worst_at_lo": (worst["benchmark"], worst["load_balance_efficiency"]),
             "best_at_lo": (best["benchmark"], best["load_balance_efficiency"])}
    avg = f"averaged over the {len(groups)} lines" if len(groups) > 1 else ""
    if len(depths) == 2:
        sentence = (f"Load-balance efficiency (1 - starved / total cycles, averaged over PEs) goes from "
                    f"{_pct(at[lo])} at depth {lo} to {_pct(at[hi])} at depth {hi} {avg}; {spread}.")
    else:
        gain = at[hi] - at[knee]
        if gain < 0.02:
            trend = f"and then flattens ({100 * gain:+.1f} points more up to depth {hi})"
        elif gain < 0.05:
            trend = f"and gains only {100 * gain:.1f} points more up to depth {hi}"
        else:
            trend = f"and still gains {100 * gain:.1f} points up to depth {hi}"
        sentence = (f"Load-balance efficiency (1 - starved / total cycles, averaged over PEs) rises from "
                    f"{_pct(at[lo])} at depth {lo} to {_pct(at[knee])} at depth {knee} {avg} {trend}; {spread}.")
    return _finish(plt, fig, out_dir, "load_balance_vs_queue_depth", title, " ".join(sentence.split()), facts)


def fig_pe_scaling(plt, rows, out_dir, titles, others):
    ref, sp, missing = speedups(rows, others)
    style = Styles(rows)
    pes = sorted({r["num_pes"] for r in rows})
    ref_text = f"{ref} PE" + ("s" if ref > 1 else "")
    benches = bench_order(rows)
    if others and len(benches) > 1:
        fig = _scaling_multiples(plt, rows, sp, others, titles, ref, ref_text, pes)
    else:
        fig = _scaling_two_panels(plt, rows, sp, others, titles, ref, ref_text, pes, style)
    title = "Speedup vs number of PEs"
    return _scaling_finish(plt, fig, rows, out_dir, titles, others, ref, ref_text, pes, sp, missing, title)


def _benchmark_panels(plt, benches):
    """One panel per benchmark, at most three to a row, sharing both axes: (figure, panels in order)."""
    ncols = min(3, len(benches))
    nrows = -(-len(benches) // ncols)
    fig, grid = plt.subplots(nrows, ncols, figsize=(3.4 * ncols + 2.4, 2.7 * nrows + 0.9), sharex=True,
                             sharey=True, squeeze=False)
    return fig, [a for row in grid for a in row]


def _scaling_multiples(plt, rows, sp, others, titles, ref, ref_text, pes):
    """Two parameters vary: a panel per benchmark of scaling efficiency (speedup / ideal, %) vs PEs,
    a line per value of the other parameters, so no benchmark's lines hide another's."""
    benches = bench_order(rows)
    fig, panels = _benchmark_panels(plt, benches)
    combos = sorted({k[1:] for k in sp}, key=lambda c: tuple(value_key(v) for v in c))
    effs = [100 * s / (p / ref) for pts in sp.values() for p, s in pts] or [100.0]
    for b, ax in zip(benches, panels):
        for j, combo in enumerate(combos):
            pts = sp.get((b,) + combo)
            if pts:
                ax.plot([p for p, _ in pts], [100 * s / (p / ref) for p, s in pts], color=COLORS[j % len(COLORS)],
                        marker=MARKERS[j % len(MARKERS)], linestyle=LINESTYLES[j % len(LINESTYLES)], markersize=4.5,
                        label=", ".join(f"{o}={params.fmt_value(v)}" for o, v in zip(others, combo)))
        ax.axhline(100, color="black", linestyle=(0, (4, 3)), linewidth=1.0, zorder=4,
                   label="ideal (linear)" if ax is panels[0] else None)
        ax.set_title(_name(titles, b), fontsize=10)
        _log2_axis(ax, pes)
    for ax in panels[len(benches):]:
        ax.set_visible(False)
    panels[0].set_ylim(max(0.0, math.floor((min(effs) - 5) / 10) * 10), max(110.0, math.ceil(max(effs) / 10) * 10 + 5))
    fig.supxlabel("number of PEs", fontsize=10)
    fig.supylabel(f"speedup over {ref_text} / ideal speedup (%)", fontsize=10)
    fig.tight_layout()
    full = max(panels[:len(benches)], key=lambda a: len(a.get_lines()))
    pairs = [(h, l) for h, l in zip(*full.get_legend_handles_labels()) if l != "ideal (linear)"]
    handles, labels = [h for h, _ in pairs], [l for _, l in pairs]
    h0, l0 = panels[0].get_legend_handles_labels()
    ideal = [(h, l) for h, l in zip(h0, l0) if l == "ideal (linear)"]
    fig.legend([h for h, _ in ideal] + handles, [l for _, l in ideal] + labels, loc="center left",
               bbox_to_anchor=(1.0, 0.5), frameon=False)
    return fig


def _scaling_two_panels(plt, rows, sp, others, titles, ref, ref_text, pes, style):
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11.0, 4.4), gridspec_kw={"width_ratios": [1.15, 1]})
    for key, pts in sp.items():
        st = style(key)
        ax.plot([p for p, _ in pts], [s for _, s in pts], label=_label(key, others, titles), **st)
        ax2.plot([p for p, _ in pts], [100 * s / (p / ref) for p, s in pts], **st)
    # The ideal line on top, so it shows where the benchmarks sit on it.
    ax.plot(pes, [p / ref for p in pes], color="black", linestyle=(0, (4, 3)), linewidth=1.1, zorder=4,
            label="ideal (linear)")
    ax2.axhline(100, color="black", linestyle=(0, (4, 3)), linewidth=1.1, zorder=4)
    _log2_axis(ax, pes)
    _log2_axis(ax2, pes)
    all_sp = [s for pts in sp.values() for _, s in pts] + [p / ref for p in pes]
    lo_e = math.floor(math.log2(min(all_sp)) + 1e-9)
    hi_e = math.ceil(math.log2(max(all_sp)) - 1e-9)
    step = 1 if hi_e - lo_e <= 10 else 2
    _log2_axis(ax, [2.0 ** e for e in range(lo_e, hi_e + 1, step)], axis="y")
    ax.set_ylim(2.0 ** lo_e / 1.3, max(all_sp) * 1.4)
    ax.set_xlabel("number of PEs")
    ax.set_ylabel(f"speedup over {ref_text} (cycles at {ref} / cycles at N)")
    ax.set_title("Speedup (log-log)")
    effs = [100 * s / (p / ref) for pts in sp.values() for p, s in pts]
    ax2.set_ylim(max(0.0, math.floor((min(effs) - 5) / 10) * 10), max(110.0, math.ceil(max(effs) / 10) * 10 + 5))
    ax2.set_xlabel("number of PEs")
    ax2.set_ylabel("speedup / ideal speedup (%)")
    ax2.set_title("Scaling efficiency (100% = linear)")
    handles, labels = ax.get_legend_handles_labels()
    _legend_right(ax2, len(sp) + 1, handles[-1:] + handles[:-1], labels[-1:] + labels[:-1])
    fig.tight_layout()
    return fig


def _scaling_finish(plt, fig, rows, out_dir, titles, others, ref, ref_text, pes, sp, missing, title):
    ctx = context(rows, "num_pes")
    fig.suptitle(f"{title} (over {ref_text}" + (f"; {ctx}" if ctx else "") + ")", fontsize=11)
    if any(r.get("grow_memories") is True for r in rows):
        fig.text(0.01, -0.02, f"The {ref_text} reference is a real run (memories grown so the layer fits {ref_text}), "
                 "so a speedup above linear means the reference itself starves or pads more, not extra hardware.",
                 fontsize=8, color="0.3", ha="left", va="top")
    fig.tight_layout()
    top = pes[-1]
    finals = []
    for key, pts in sp.items():
        last = [s for p, s in pts if p == top]
        if last:
            finals.append((last[0] / (top / ref), key, last[0]))
    finals.sort(key=lambda f: f[0])
    ref_lb = {}
    for key in sp:
        r0 = next(r for r in rows if r["benchmark"] == key[0] and r["num_pes"] == ref and
                  all(r.get(o) == v for o, v in zip(others, key[1:])))
        ref_lb[key] = r0["load_balance_efficiency"]
    facts = {"ref": ref, "top": top, "finals": [(k, s, e) for e, k, s in finals], "speedups": sp,
             "missing": missing, "ref_lb": ref_lb, "others": list(others)}
    if finals:
        worst, best = finals[0], finals[-1]
        near = [f for f in finals if f[0] >= 0.8]
        how = ("a panel per benchmark, as a share of the ideal" if others and len(bench_order(rows)) > 1
               else "right: as a share of the ideal")
        sentence = (f"Speedup over {ref_text} (cycles at {ref} / cycles at N; {how} "
                    f"{top // ref}x) at {top} PEs ranges from {worst[2]:.1f}x for {_label(worst[1], others, titles)}, "
                    f"{_pct(worst[0])} of linear, to {best[2]:.1f}x for {_label(best[1], others, titles)}, "
                    f"{_pct(best[0])}; {len(near)} of {len(finals)} lines stay within 80% of linear.")
        over = [f for f in finals if f[0] > 1.02]
        if over:
            sentence = sentence[:-1] + "; above 100% the reference point is itself slow (" + ", ".join(
                f"{_label(k, others, titles)} is {_pct(1 - ref_lb[k])} starved at {ref_text}" for _, k, _ in over) + \
                ") or pads more than the larger configurations (next figure)."
    else:
        sentence = f"Speedup over {ref_text}: no line reaches {top} PEs."
    if missing:
        sentence = sentence[:-1] + f"; {len(missing)} line(s) have no point at {ref_text} and are not drawn."
    return _finish(plt, fig, out_dir, "speedup_vs_pes", title, sentence, facts)


def fig_real_work(plt, rows, out_dir, titles, others):
    title = "Real work / total work (non-padding / all issued entries) vs PEs"
    fig, panels, legend_panel, pes, groups = _percent_lines(
        plt, rows, others, titles, "num_pes", "real_work_ratio", "number of PEs",
        "real work / total work (% of issued entries)", title)
    if len(panels) > 1:
        fig.tight_layout()
    _legend_outside(fig, panels, legend_panel)
    a, b = pes[0], pes[-1]
    mean = {p: mean_at(rows, "num_pes", p, "real_work_ratio") for p in pes}
    flat_to = a
    for p in pes:
        if abs(mean[p] - mean[a]) <= 0.01:
            flat_to = p
        else:
            break
    low = min(rows, key=lambda r: r["real_work_ratio"])
    pl = lambda n: f"{n} PE{'s' if n > 1 else ''}"  # noqa: E731
    verb = "rises" if mean[b] > mean[a] + 0.005 else ("falls" if mean[b] < mean[a] - 0.005 else "stays")
    if a < flat_to < b and verb == "rises":
        shape = (f"stays near {_pct(mean[a])} from {pl(a)} to {pl(flat_to)} on average, then rises to "
                 f"{_pct(mean[b])} at {pl(b)}")
    else:
        shape = f"{verb} from {_pct(mean[a])} at {pl(a)} to {_pct(mean[b])} at {pl(b)} on average"
    ib = sorted({r.get("index_bits") for r in rows if r.get("index_bits")})
    span = 2 ** ib[0] if len(ib) == 1 else None
    why = ("" if verb != "rises" or span is None else
           f" (a PE holds out_len / N rows of a column, and zero runs of {span} rows or more, which need padding "
           f"entries, become rare and then impossible as that number approaches {span})")
    sentence = (f"Real work / total work (non-padding entries / all issued entries) {shape}{why}; the lowest is "
                f"{_label((low['benchmark'],) + tuple(low.get(o) for o in others), others, titles)} at "
                f"{pl(low['num_pes'])} ({_pct(low['real_work_ratio'])}).")
    facts = {"lo_pes": a, "hi_pes": b, "mean": mean}
    return _finish(plt, fig, out_dir, "real_work_vs_pes", title, sentence, facts)


def fig_sram_width(plt, rows, out_dir, titles, others):
    groups = series(rows, "spmat_line_bits", others)
    style = Styles(rows)
    energy = all(spmat_energy_pj(r) is not None for r in rows)
    ncols = 2 if energy else 1
    fig, axes = plt.subplots(1, ncols, figsize=(5.2 * ncols, 4.3), squeeze=False)
    axes = list(axes[0])
    div, unit = energy_unit([spmat_energy_pj(r) for r in rows]) if energy else (1.0, "")
    for key, rs in groups.items():
        xs = [r["spmat_line_bits"] for r in rs]
        st = style(key)
        lab = _label(key, others, titles)
        if energy:
            axes[0].plot(xs, [spmat_energy_pj(r) / div for r in rs], label=lab, **st)
        axes[-1].plot(xs, [r["total_spmat_line_reads"] for r in rs], label=lab, **st)
    widths = sorted({r["spmat_line_bits"] for r in rows})
    if energy:
        axes[0].set_ylabel(f"sparse-matrix SRAM read energy ({unit}, all PEs)")
        axes[0].set_title("Read energy vs line width")
        _log10_axis(axes[0], [spmat_energy_pj(r) / div for r in rows])
    axes[-1].set_ylabel("sparse-matrix SRAM line reads (all PEs)")
    axes[-1].set_title("Line reads vs line width")
    _log10_axis(axes[-1], [r["total_spmat_line_reads"] for r in rows])
    for ax in axes:
        _log2_axis(ax, widths)
        ax.set_xlabel("sparse-matrix SRAM line width (bits)")
    if energy and widths[0] < PAPER_BEST_WIDTH < widths[-1] or PAPER_BEST_WIDTH in widths[1:-1]:
        axes[0].axvline(PAPER_BEST_WIDTH, color="0.35", linestyle=":", linewidth=1.0, zorder=1)
        axes[0].annotate(f"paper's optimum ({PAPER_BEST_WIDTH} bits)", xy=(PAPER_BEST_WIDTH, 0.0),
                         xycoords=("data", "axes fraction"), xytext=(4, 4), textcoords="offset points",
                         ha="left", va="bottom", fontsize=8, color="0.3")
    handles, labels = axes[-1].get_legend_handles_labels()
    _legend_right(axes[-1], len(groups), handles, labels)
    title = "Sparse-matrix SRAM read energy and line reads vs line width"
    ctx = context(rows, "spmat_line_bits")
    if ctx:
        fig.suptitle(f"{title} ({ctx})", fontsize=11)
    fig.tight_layout()
    metric = spmat_energy_pj if energy else (lambda r: r["total_spmat_line_reads"])
    best = {key: min(rs, key=metric)["spmat_line_bits"] for key, rs in groups.items()}
    counts = {}
    for w in best.values():
        counts[w] = counts.get(w, 0) + 1
    top_w, top_n = max(counts.items(), key=lambda kv: (kv[1], -kv[0]))
    lo_w, hi_w = widths[0], widths[-1]
    reads_lo = mean_at(rows, "spmat_line_bits", lo_w, "total_spmat_line_reads")
    reads_hi = mean_at(rows, "spmat_line_bits", hi_w, "total_spmat_line_reads")
    what = "read energy" if energy else "read count"
    ratio = ""
    if energy:
        e_lo = sum(spmat_energy_pj(r) for r in rows if r["spmat_line_bits"] == lo_w)
        e_hi = sum(spmat_energy_pj(r) for r in rows if r["spmat_line_bits"] == hi_w)
        ratio = (" and the read energy summed over the lines " +
                 (f"falls {e_lo / e_hi:.1f}x" if e_hi < e_lo else f"rises {e_hi / e_lo:.1f}x"))
    others_text = "" if len(counts) == 1 else " (" + ", ".join(
        f"{w} bits for {n}" for w, n in sorted(counts.items()) if w != top_w) + ")"
    sentence = (f"From {lo_w}- to {hi_w}-bit lines the line reads fall {reads_lo / reads_hi:.1f}x on average "
                f"while each read costs more{ratio}; the {what} is lowest at {top_w}-bit lines for {top_n} of "
                f"the {len(groups)} lines{others_text}.")
    facts = {"best": best, "counts": counts, "energy": energy, "widths": widths}
    return _finish(plt, fig, out_dir, "spmat_vs_sram_width", title, sentence, facts)


def _bar_labels(ax, xs, vals):
    for x, v in zip(xs, vals):
        ax.annotate(_fmt_num(v), xy=(x, v), xytext=(0, 2), textcoords="offset points", ha="center",
                    va="bottom", fontsize=7.5)
    ax.set_ylim(0, max(vals) * 1.15 if vals and max(vals) > 0 else 1)


def _bench_axis(ax, names):
    ax.set_xticks(list(range(len(names))))
    ax.set_xticklabels(names, rotation=40 if len(names) > 4 else 0, ha="right" if len(names) > 4 else "center")
    ax.grid(axis="x", visible=False)
    ax.set_xlim(-0.6, len(names) - 0.4)


def fig_bars(plt, rows, out_dir, titles, config_desc):
    names = [_name(titles, r["benchmark"]) for r in rows]
    energy = has_energy(rows)
    ncols = 2 if energy else 1
    fig, axes = plt.subplots(1, ncols, figsize=(max(4.0, 0.55 * len(rows) + 2.0) * ncols, 4.0), squeeze=False)
    axes = list(axes[0])
    xs = list(range(len(rows)))
    times = [r["time_us"] for r in rows]
    # The published times hold for the paper's array and clock only.
    paper_point = all(r.get("num_pes") == 64 and r.get("clock_mhz") == 800 for r in rows)
    published = [PUBLISHED_TIME_US.get(r["benchmark"]) if paper_point else None for r in rows]
    if any(p is not None for p in published):
        # The paper's time beside the model's bar: narrower bars, model left, paper right.
        axes[0].bar([x - 0.19 for x in xs], times, color="tab:blue", width=0.38, label="model")
        pxs = [x + 0.19 for x, p in zip(xs, published) if p is not None]
        pvals = [p for p in published if p is not None]
        axes[0].bar(pxs, pvals, color="white", edgecolor="0.25", hatch="///", width=0.38,
                    label="EIE Table IV (actual, 64 PEs, 800 MHz)")
        _bar_labels(axes[0], [x - 0.19 for x in xs], times)
        axes[0].set_ylim(0, max(times + pvals) * 1.18)
        axes[0].legend(loc="upper right", fontsize=7.5, frameon=False)
    else:
        axes[0].bar(xs, times, color="tab:blue", width=0.7)
        _bar_labels(axes[0], xs, times)
    clocks = sorted({r["clock_mhz"] for r in rows})
    clock = "/".join(params.fmt_value(c) for c in clocks)
    axes[0].set_ylabel(f"time per layer (\u00b5s at {clock} MHz)")
    axes[0].set_title("Time per benchmark layer")
    div, unit = 1e6, "\u00b5J"
    if energy:
        div, unit = energy_unit([r["energy_uj"] * 1e6 for r in rows])
        vals = [r["energy_uj"] * 1e6 / div for r in rows]
        axes[1].bar(xs, vals, color="tab:orange", width=0.7)
        _bar_labels(axes[1], xs, vals)
        axes[1].set_ylabel(f"energy per layer ({unit})")
        axes[1].set_title("Energy per benchmark layer")
    for ax in axes:
        _bench_axis(ax, names)
    title = f"Per-benchmark time and energy ({config_desc})"
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    slow = max(rows, key=lambda r: r["time_us"])
    fast = min(rows, key=lambda r: r["time_us"])
    sentence = (f"At one configuration ({config_desc}) the time per layer ranges from {fast['time_us']:.1f} \u00b5s "
                f"({_name(titles, fast['benchmark'])}) to {slow['time_us']:.1f} \u00b5s "
                f"({_name(titles, slow['benchmark'])})")
    if energy:
        big = max(rows, key=lambda r: r["energy_uj"])
        small = min(rows, key=lambda r: r["energy_uj"])
        sentence += (f" and the energy from {_fmt_num(small['energy_uj'] * 1e6 / div)} {unit} "
                     f"({_name(titles, small['benchmark'])}) to {_fmt_num(big['energy_uj'] * 1e6 / div)} {unit} "
                     f"({_name(titles, big['benchmark'])})")
    ratios = [(t / p, r) for t, p, r in zip(times, published, rows) if p]
    if ratios:
        lo_r, hi_r = min(ratios, key=lambda q: q[0]), max(ratios, key=lambda q: q[0])
        sentence += (f"; against the paper's measured times (EIE Table IV, hatched) the model's synthetic layers take "
                     f"{_pct(lo_r[0])} ({_name(titles, lo_r[1]['benchmark'])}) to {_pct(hi_r[0])} "
                     f"({_name(titles, hi_r[1]['benchmark'])}) of them")
    return _finish(plt, fig, out_dir, "benchmarks_time_energy", title, sentence + ".", {"config": config_desc})


# One colour per energy component, the same in every figure; the components that are usually
# largest get the most distinct colours.
COMPONENT_COLORS = {
    "spmat_sram": "#1f77b4", "pointer_sram": "#ff7f0e", "clock": "#2ca02c", "dst_regfile": "#d62728",
    "arith_mult": "#9467bd", "codebook": "#8c564b", "act_queue": "#e377c2", "arith_add": "#7f7f7f",
    "act_sram": "#bcbd22", "lnzd": "#17becf", "src_regfile": "#393b79", "leakage": "#e7ba52",
}
SPARE_COLORS = ["#843c39", "#637939", "#7b4173", "#3182bd"]


def fig_breakdown(plt, rows, out_dir, titles, config_desc):
    comps = [k[len(COMPONENT_PREFIX):] for k in rows[0] if k.startswith(COMPONENT_PREFIX)]
    comps = [c for c in comps if any((r.get(COMPONENT_PREFIX + c) or 0) > 0 for r in rows)]
    totals = {c: sum(r.get(COMPONENT_PREFIX + c) or 0 for r in rows) for c in comps}
    comps.sort(key=lambda c: -totals[c])
    names = [_name(titles, r["benchmark"]) for r in rows]
    row_total = [sum(r.get(COMPONENT_PREFIX + c) or 0 for c in comps) for r in rows]
    div, unit = energy_unit(row_total)
    width = max(4.0, 0.5 * len(rows) + 2.0)
    fig, axes = plt.subplots(1, 2, figsize=(2 * width + 2.0, 4.4))
    xs = list(range(len(rows)))
    for ax, share in ((axes[0], False), (axes[1], True)):
        bottom = [0.0] * len(rows)
        for i, c in enumerate(comps):
            vals = []
            for r, tot in zip(rows, row_total):
                v = r.get(COMPONENT_PREFIX + c) or 0
                vals.append((100 * v / tot if tot else 0) if share else v / div)
            color = COMPONENT_COLORS.get(c, SPARE_COLORS[i % len(SPARE_COLORS)])
            ax.bar(xs, vals, bottom=bottom, color=color, width=0.7,
                   edgecolor="white", linewidth=0.4, label=COMPONENT_LABELS.get(c, c))
            bottom = [b + v for b, v in zip(bottom, vals)]
        _bench_axis(ax, names)
    axes[0].set_ylabel(f"energy per layer ({unit})")
    axes[0].set_title("Energy by component")
    axes[1].set_ylabel("share of the layer's energy (%)")
    axes[1].set_title("Energy shares by component")
    axes[1].set_ylim(0, 100)
    handles, labels = axes[1].get_legend_handles_labels()
    # Legend top to bottom in the order the stack reads top to bottom.
    _legend_right(axes[1], len(comps), handles[::-1], labels[::-1])
    title = f"Energy breakdown by component ({config_desc})"
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    grand = sum(totals.values())
    shares = {r["benchmark"]: (r.get(COMPONENT_PREFIX + comps[0]) or 0) / tot
              for r, tot in zip(rows, row_total) if tot}
    lo_b = min(shares, key=shares.get)
    hi_b = max(shares, key=shares.get)
    first = COMPONENT_LABELS.get(comps[0], comps[0])
    sentence = (f"Energy by component ({config_desc}): over the {len(rows)} layers the largest parts are "
                + ", ".join(f"{COMPONENT_LABELS.get(c, c)} ({_pct(totals[c] / grand)})" for c in comps[:3])
                + f" of the total; the {first} share ranges from {_pct(shares[lo_b])} ({_name(titles, lo_b)}) "
                  f"to {_pct(shares[hi_b])} ({_name(titles, hi_b)}).")
    facts = {"shares": {c: totals[c] / grand for c in comps}}
    return _finish(plt, fig, out_dir, "energy_breakdown", title, sentence, facts)


# ---------------------------------------------------------------- entry point

def make_plots(rows, out_dir, titles=None, bars=True):
    """Makes every figure the rows support.

    rows: results.read_csv() rows; titles: benchmark name -> display name; bars: also make the
    per-benchmark figures (at one configuration) when a parameter varies (they are always made
    when nothing varies). out_dir is a staging directory (common.atomic_files for a directory
    shared with other files, common.atomic_directory for one of figures only): the figures are
    written into it directly, and the caller publishes them whole. Returns (made: [Figure],
    skipped: [(figure name, reason)])."""
    titles = titles or {}
    ok = ok_rows(rows)
    if not ok:
        return [], [(name, "no point with status ok") for name, _, _ in FIGURES]
    os.makedirs(out_dir, exist_ok=True)
    plt = _plt()
    vary = varying(ok)
    made, skipped = [], []
    handlers = {"load_balance_vs_queue_depth": fig_queue_depth, "speedup_vs_pes": fig_pe_scaling,
                "real_work_vs_pes": fig_real_work, "spmat_vs_sram_width": fig_sram_width}
    for name, x, _ in FIGURES:
        if x is None:
            continue
        if all(x not in r for r in ok):
            skipped.append((name, f"the CSV has no column {x}"))
            continue
        if x not in vary:
            values = sorted({r.get(x) for r in ok}, key=str)
            skipped.append((name, f"{x} does not vary in the CSV: every point has "
                                  f"{', '.join(params.fmt_value(v) for v in values)}"))
            continue
        if missing_columns(ok, name):
            skipped.append((name, _missing_reason(ok, name)))
            continue
        others = [v for v in vary if v != x]
        made.append(handlers[name](plt, ok, out_dir, titles, others))
    if vary and any(r.get(LATENCY_MEDIAN) not in (None, "") for r in ok):
        x = "num_pes" if "num_pes" in vary else vary[0]
        made.append(fig_latency_accuracy(plt, ok, out_dir, titles, x, [v for v in vary if v != x]))
    if not bars and vary:
        for name in ("benchmarks_time_energy", "energy_breakdown"):
            skipped.append((name, f"per-benchmark figure, left out as {', '.join(vary)} varies"))
        return made, skipped
    sel, desc = fixed_configuration(ok, vary)
    if missing_columns(sel, "benchmarks_time_energy"):
        skipped.append(("benchmarks_time_energy", _missing_reason(sel, "benchmarks_time_energy")))
    else:
        made.append(fig_bars(plt, sel, out_dir, titles, desc))
    if missing_columns(sel, "energy_breakdown"):
        skipped.append(("energy_breakdown", _missing_reason(sel, "energy_breakdown")))
    elif any(k.startswith(COMPONENT_PREFIX) for k in sel[0]) and has_energy(sel):
        made.append(fig_breakdown(plt, sel, out_dir, titles, desc))
    else:
        skipped.append(("energy_breakdown", "the CSV has no energy columns (energy_component_pj_*)"))
    return made, skipped


# ---- user networks (eie-sim --inputs): per-inference latency next to accuracy
LATENCY_MEDIAN, LATENCY_P99 = "per_inference_time_us_median", "per_inference_time_us_p99"


def fig_latency_accuracy(plt, rows, out_dir, titles, x, others):
    """Per-inference latency (median solid, p99 dashed) against x, one colour per line of the
    other varying parameters, and the top-1 accuracy beside it."""
    rows = [r for r in rows if r.get(LATENCY_MEDIAN) not in (None, "")]
    groups = series(rows, x, others)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10.5, 4.2), gridspec_kw={"width_ratios": [2, 1]})
    for i, (key, rs) in enumerate(groups.items()):
        color = COLORS[i % len(COLORS)]
        label = _label(key, others, titles)
        xs = [r[x] for r in rs]
        ax.plot(xs, [r[LATENCY_MEDIAN] for r in rs], color=color, marker="o", label=f"{label} median")
        ax.plot(xs, [r[LATENCY_P99] for r in rs], color=color, marker="^", linestyle="--", label=f"{label} p99")
        if all(r.get("accuracy_top1") not in (None, "") for r in rs):
            bx.plot(xs, [100 * r["accuracy_top1"] for r in rs], color=color, marker="o", label=label)
    values = sorted({r[x] for r in rows})
    log2 = all(isinstance(v, (int, float)) and v > 0 and (int(v) & (int(v) - 1)) == 0 for v in values)
    for a in (ax, bx):
        if log2:
            _log2_axis(a, values)
        a.set_xlabel(x)
    ax.set_ylabel("latency per inference (us at the clock)")
    ax.set_title("Per-inference latency: median and p99")
    bx.set_ylabel("top-1 accuracy (%)")
    bx.set_title("Accuracy")
    _legend_right(bx, len(groups))
    ax.legend(fontsize="small", frameon=False)
    title = f"Per-inference latency and accuracy vs {x}"
    lo, hi = values[0], values[-1]
    at = lambda v, k: [r[k] for r in rows if r[x] == v]
    med_lo, med_hi = min(at(lo, LATENCY_MEDIAN)), min(at(hi, LATENCY_MEDIAN))
    accs = sorted({round(100 * r["accuracy_top1"], 4) for r in rows if r.get("accuracy_top1") not in (None, "")})
    acc_text = (f"top-1 accuracy stays at {accs[0]:.2f}% at every point (timing and layout never change "
                "what is computed)" if len(accs) == 1 else
                f"top-1 accuracy ranges from {accs[0]:.2f}% to {accs[-1]:.2f}%" if accs else "no labels given")
    sentence = (f"The best median latency per inference goes from {med_lo:.3f} us at {x}={params.fmt_value(lo)} "
                f"to {med_hi:.3f} us at {x}={params.fmt_value(hi)}; {acc_text}.")
    return _finish(plt, fig, out_dir, "latency_accuracy", title, sentence,
                   {"x": x, "values": values, "median_lo": med_lo, "median_hi": med_hi, "accuracy": accs})
