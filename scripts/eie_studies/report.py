"""The architecture-study report: study result directories -> figures + report.md.

A study is a result directory of scripts/sweep (results.csv, sweep.json, points/<id>.json). For
each one the report embeds the figures of plots.make_plots() with the sentence that reads each,
lists the benchmarks and the configuration actually simulated (from the points' statistics,
"arch": grown memories included) and compares what the data shows with the paper's published
observations (docs/reference.md, "Published figures"), with our numbers, whatever they say.
docs/studies.md ("Figures") describes the figures; scripts/report is the command line.
"""
import contextlib
import datetime
import json
import os
import subprocess

from . import params, plots, results
from .common import ROOT, StudyError, atomic_directory, atomic_write_text

# The paper's observations (EIE section VI and Table V; docs/reference.md, "Published figures"), and the figures of
# the paper configuration the report compares with.
PAPER = {
    "queue_idle_at_1": "about half the cycles idle at depth 1",
    "queue_knee": "little gain beyond depth 8",
    "scaling": "near-linear speedup from 1 to 256 PEs, except the small NT-We",
    "width": "64-bit lines minimise the total sparse-matrix read energy",
    "power_w": 0.59, "gops": 102.0, "area_mm2": 40.8, "pe_mw": 9.157,
}
NEAR_LINEAR = 0.8      # "near-linear": at least this share of the ideal speedup (stated in the report)
SMALL_GAIN = 0.05      # "little gain": less than 5 points of load-balance efficiency
EXCEPTION_BENCH = "ntwe"


class Study:
    """One result directory, loaded: rows, the sweep description, the point records."""

    def __init__(self, directory, name=None):
        self.dir = os.path.abspath(directory)
        self.csv = os.path.join(self.dir, "results.csv")
        if not os.path.isfile(self.csv):
            raise StudyError(f"{directory}: no results.csv (not a result directory of scripts/sweep)")
        self.rows, cols = results.read_csv(self.csv)
        for need in ("benchmark", "status", "cycles", "point_id"):
            if need not in cols:
                raise StudyError(f"{self.csv}: column '{need}' missing: not a results.csv of scripts/sweep")
        self.sweep = {}
        sj = os.path.join(self.dir, "sweep.json")
        if os.path.isfile(sj):
            try:
                with open(sj) as f:
                    self.sweep = json.load(f)
            except (OSError, ValueError) as e:
                raise StudyError(f"{sj}: not readable JSON ({e})") from None
        self.name = name or self.sweep.get("name") or os.path.basename(self.dir.rstrip(os.sep))
        specs = self.sweep.get("specs", {}) if isinstance(self.sweep.get("specs"), dict) else {}
        self.specs = specs
        self.titles = {k: v.get("title", k) for k, v in specs.items()}
        self.records = {}
        for r in self.rows:
            path = os.path.join(self.dir, "points", f"{r['point_id']}.json")
            try:
                with open(path) as f:
                    self.records[r["point_id"]] = json.load(f)
            except (OSError, ValueError):
                pass  # the configuration table then falls back on the CSV's requested values
        self.run_info = None  # (wall seconds, points reused) when this report ran the sweep

    @property
    def ok(self):
        return plots.ok_rows(self.rows)

    def title(self, bench):
        return self.titles.get(bench, bench)


# ---------------------------------------------------------------- tables

def _fmt(v):
    return params.fmt_value(v) if v is not None else "n/a"


def config_table(study):
    """Every parameter as simulated: the points' statistics "arch" (what eie-sim used, grown
    memories included), or the CSV's requested value when a point file is missing."""
    vary = set(plots.varying(study.ok)) if study.ok else set()
    swept = set(study.sweep.get("swept", [])) | vary
    base = study.sweep.get("base", {}) or {}
    lines = ["| parameter | value in this study | unit | class |", "|---|---|---|---|"]
    for p in params.table():
        per_bench = {}
        for r in study.rows:
            rec = study.records.get(r["point_id"]) or {}
            arch = (rec.get("stats") or {}).get("arch") or {}
            v = arch.get(p.name, r.get(p.name))
            per_bench.setdefault(r["benchmark"], set()).add(v)
        values = sorted({v for vs in per_bench.values() for v in vs if v is not None}, key=lambda x: (str(type(x)), x))
        if p.name in swept:
            text = "**swept**: " + ", ".join(_fmt(v) for v in values)
        elif len(values) == 1:
            v = values[0]
            text = _fmt(v) + (" (default)" if v == p.default else f" (default {_fmt(p.default)})")
        elif all(len(vs) == 1 for vs in per_bench.values()):
            groups = {}
            for b, vs in per_bench.items():
                groups.setdefault(next(iter(vs)), []).append(study.title(b))
            text = "; ".join(f"{_fmt(v)}: {', '.join(bs)}" for v, bs in
                             sorted(groups.items(), key=lambda kv: (str(type(kv[0])), kv[0])))
        else:
            text = (f"{_fmt(values[0])} .. {_fmt(values[-1])}, per benchmark and point "
                    f"(default {_fmt(p.default)})")
        notes = []
        if p.name in base:
            notes.append("set by the study's base")
        if p.name == "grow_memories" and any(v is True for v in values):
            notes.append("memories enlarged where a layer does not fit; the sizes above are the grown ones")
        if notes:
            text += ": " + "; ".join(notes)
        lines.append(f"| `{p.name}` | {text} | {p.unit} | {p.cls} |")
    return "\n".join(lines)


def bench_table(study):
    lines = ["| benchmark | in x out | weight density | activation density | activation | placement | seed | "
             "own overrides |", "|---|---|---|---|---|---|---|---|"]
    seen = []
    for r in study.rows:
        if r["benchmark"] in seen:
            continue
        seen.append(r["benchmark"])
        spec = study.specs.get(r["benchmark"])
        if spec is None:
            over = "unknown (no sweep.json)"
        else:
            over = ", ".join(f"{k}={_fmt(v)}" for k, v in (spec.get("arch") or {}).items()) or "none"
        lines.append(f"| {study.title(r['benchmark'])} | {r['in_len']} x {r['out_len']} | "
                     f"{100 * r['weight_density']:.1f}% | {100 * r['act_density']:.1f}% | {r['activation']} | "
                     f"{r['placement']} | {r['seed']} | {over} |")
    return "\n".join(lines)


def results_table(study):
    lines = ["| benchmark | cycles | time (µs) | GOP/s | load balance | real/total work | energy (µJ) | "
             "power (mW) | bit-exact |", "|---|---|---|---|---|---|---|---|---|"]
    for r in study.rows:
        name = study.title(r["benchmark"])
        if r["status"] != "ok":
            lines.append(f"| {name} | {r['status']} | | | | | | | |")
            continue
        e, p = r.get("energy_uj"), r.get("power_mw")
        lines.append(f"| {name} | {r['cycles']:,} | {r['time_us']:.2f} | {r['gops']:.1f} | "
                     f"{100 * r['load_balance_efficiency']:.1f}% | {100 * r['real_work_ratio']:.1f}% | "
                     f"{'' if e is None else f'{e:.3f}'} | {'' if p is None else f'{p:.1f}'} | "
                     f"{'yes' if r.get('bit_exact') else 'NO'} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- comparisons with the paper

def _pct(v):
    return f"{100 * v:.1f}%"


def compare_queue_depth(study, fig):
    f = fig.facts
    rows = study.ok
    lo, knee, hi = f["lo"], f["knee"], f["hi"]
    out = []
    if lo == 1:
        idle = {r["benchmark"]: 1 - r["load_balance_efficiency"] for r in rows if r["queue_depth"] == 1}
        mean_idle = sum(idle.values()) / len(idle)
        near = [b for b, v in idle.items() if 0.4 <= v <= 0.6]
        if 0.4 <= mean_idle <= 0.6:
            verdict = "agrees"
        elif near:
            verdict = "partly"
        else:
            verdict = "differs"
        wb = max(idle, key=idle.get)
        bb = min(idle, key=idle.get)
        ours = (f"{_pct(mean_idle)} of the cycles starved on average at depth 1, from {_pct(idle[bb])} "
                f"({study.title(bb)}) to {_pct(idle[wb])} ({study.title(wb)})")
        if near and verdict != "agrees":
            ours += f"; near half only for {', '.join(study.title(b) for b in near)}"
        out.append(("Queue depth 1", PAPER["queue_idle_at_1"], ours, verdict))
    if knee < hi and knee == plots.PAPER_QUEUE_KNEE:
        gains = {}
        for r in rows:
            if r["queue_depth"] in (knee, hi):
                gains.setdefault(r["benchmark"], {})[r["queue_depth"]] = r["load_balance_efficiency"]
        per = {b: g[hi] - g[knee] for b, g in gains.items() if knee in g and hi in g}
        mean_gain = f["mean"][hi] - f["mean"][knee]
        big = max(per, key=per.get)
        verdict = "agrees" if mean_gain < SMALL_GAIN and per[big] < 2 * SMALL_GAIN else (
            "partly" if mean_gain < SMALL_GAIN else "differs")
        ours = (f"efficiency {_pct(f['mean'][knee])} at depth {knee} and {_pct(f['mean'][hi])} at depth {hi} "
                f"on average ({100 * mean_gain:+.1f} points); the largest gain beyond {knee} is "
                f"{100 * per[big]:+.1f} points ({study.title(big)})")
        out.append((f"Queue depth beyond {knee}", PAPER["queue_knee"], ours, verdict))
    return out


def compare_scaling(study, fig):
    f = fig.facts
    ref, top = f["ref"], f["top"]
    sp = f["speedups"]
    if not sp:
        return []
    others = f.get("others", [])
    # Other parameters varying too: compare the lines at one value of them (the default when
    # swept, else the smallest), as the per-benchmark figures do.
    chosen = {}
    table = params.by_name()
    for o in others:
        vals = sorted({r.get(o) for r in study.ok}, key=lambda x: (str(type(x)), x))
        d = table[o].default if o in table else "uniform"
        chosen[o] = d if d in vals else vals[0]
    eff = {}
    for key, pts in sp.items():
        if all(chosen[o] == v for o, v in zip(others, key[1:])):
            eff[key[0]] = {p: s / (p / ref) for p, s in pts}
    if not eff:
        return []
    at_text = (" (at " + ", ".join(f"{o}={_fmt(v)}" for o, v in chosen.items()) + ")") if chosen else ""
    at_top = {b: e[top] for b, e in eff.items() if top in e}
    below = sorted((b for b, v in at_top.items() if v < NEAR_LINEAR), key=lambda b: at_top[b])
    worst = min(at_top, key=at_top.get)
    ref_text = f"{ref} PE" + ("s" if ref > 1 else "")
    ours = (f"at {top} PEs{at_text} the speedup over {ref_text} is {_pct(min(at_top.values()))} to "
            f"{_pct(max(at_top.values()))} of linear; worst {study.title(worst)} ({_pct(at_top[worst])})")
    if below:
        ours += (f"; below {_pct(NEAR_LINEAR)} of linear: " +
                 ", ".join(f"{study.title(b)} {_pct(at_top[b])}" for b in below))
    # The largest PE count at which every benchmark but the exception stays near-linear.
    pes = sorted({p for e in eff.values() for p in e})
    held = [p for p in pes if all(e.get(p, 1.0) >= NEAR_LINEAR for b, e in eff.items() if b != EXCEPTION_BENCH)]
    upto = max((p for p in held if all(q in held for q in pes if q <= p)), default=None)
    if upto is not None and upto < top:
        who = f"every benchmark but {study.title(EXCEPTION_BENCH)}" if EXCEPTION_BENCH in eff else "every benchmark"
        ours += f"; {who} stays above {_pct(NEAR_LINEAR)} up to {upto} PEs"
    over = {b: v for b, v in at_top.items() if v > 1.02}
    for b in over:
        r0 = next(r for r in study.ok if r["benchmark"] == b and r["num_pes"] == ref and
                  all(r.get(o) == v for o, v in chosen.items()))
        ours += (f"; {study.title(b)} is above linear because its {ref_text} reference is itself "
                 f"{_pct(1 - r0['load_balance_efficiency'])} starved")
        packs = r0.get("ccu_packs")
        layers = ((study.records.get(r0["point_id"]) or {}).get("stats") or {}).get("layers") or [{}]
        batches = sum(L.get("batches", 0) for L in layers) or "several"
        if packs and packs >= 0.9 * r0["cycles"]:
            # A pack is N activations and the CCU scans one pack a cycle: at few PEs, a long
            # sparse input makes the scan, not the PEs, the bottleneck.
            ours += (f" (the CCU scans {ref} activation{'s' if ref > 1 else ''} a cycle: {packs:,} packs in "
                     f"{r0['cycles']:,} cycles, {batches} batches each re-scanning the "
                     f"{r0['in_len']:,} inputs)")
    if ref != 1:
        verdict = "not comparable (no 1-PE point)"
    elif EXCEPTION_BENCH in at_top and worst == EXCEPTION_BENCH and not [b for b in below if b != EXCEPTION_BENCH]:
        verdict = "agrees"
    elif EXCEPTION_BENCH in at_top and worst == EXCEPTION_BENCH:
        verdict = "partly"
    else:
        verdict = "differs"
    return [(f"PE scaling {ref}..{top}", PAPER["scaling"], ours, verdict)]


def compare_width(study, fig):
    f = fig.facts
    if not f["energy"]:
        return []
    counts = f["counts"]
    n = sum(counts.values())
    at64 = counts.get(plots.PAPER_BEST_WIDTH, 0)
    widths = f["widths"]
    rows = study.ok
    lo, hi = widths[0], widths[-1]

    def per_read(w):
        e = sum(plots.spmat_energy_pj(r) for r in rows if r["spmat_line_bits"] == w)
        reads = sum(r["total_spmat_line_reads"] for r in rows if r["spmat_line_bits"] == w)
        return e / reads if reads else float("nan"), reads

    (e_lo, r_lo), (e_hi, r_hi) = per_read(lo), per_read(hi)
    best = ", ".join(f"{w} bits for {c}" for w, c in sorted(counts.items()))
    ours = (f"lowest read energy at {best} of the {n} benchmarks; from {lo} to {hi} bits the energy per line "
            f"read rises {e_hi / e_lo:.2f}x ({e_lo:.1f} to {e_hi:.1f} pJ) while the reads fall "
            f"{r_lo / r_hi:.1f}x, because the model keeps the line buffer across columns (docs/energy-area.md, "
            "section 5: counted per column, the same table puts the minimum at 64 bits)")
    verdict = "agrees" if at64 == n else ("partly" if at64 > 0 else "differs")
    return [("SRAM line width", PAPER["width"], ours, verdict)]


def compare_paper_config(study):
    rows = study.ok
    if not rows or plots.varying(rows):
        return []
    if any(r["num_pes"] != 64 or r["clock_mhz"] != 800.0 for r in rows):
        return []
    out = []
    if plots.has_energy(rows):
        pw = {r["benchmark"]: r["power_mw"] / 1000 for r in rows}
        lo, hi = min(pw, key=pw.get), max(pw, key=pw.get)
        ours = (f"{pw[lo]:.2f} W ({study.title(lo)}) to {pw[hi]:.2f} W ({study.title(hi)})")
        if "alex7" in pw:
            ours += (f"; Alex-7, on which the energy table is calibrated (docs/energy-area.md, section 4), "
                     f"{pw['alex7']:.3f} W")
        verdict = "agrees" if abs(pw.get("alex7", pw[lo]) - PAPER["power_w"]) / PAPER["power_w"] < 0.05 else "differs"
        out.append(("Power, 64 PEs", f"about {PAPER['power_w']} W", ours, verdict + " (by calibration)"
                    if "alex7" in pw and verdict == "agrees" else verdict))
    g = {r["benchmark"]: r["gops"] for r in rows}
    lo, hi = min(g, key=g.get), max(g, key=g.get)
    lo_s, hi_s = g[lo] / PAPER["gops"], g[hi] / PAPER["gops"]
    ours = (f"{g[lo]:.1f} GOP/s ({study.title(lo)}) to {g[hi]:.1f} GOP/s ({study.title(hi)}), "
            f"{_pct(lo_s)} to {_pct(hi_s)} of the paper's figure (2 operations per useful MAC "
            "of the compressed layer; the paper does not say which layer its figure is for)")
    close = [b for b, v in g.items() if 0.9 <= v / PAPER["gops"] <= 1.1]
    if len(close) == len(g):
        verdict = "agrees"
    elif close:
        verdict = "partly"
        ours += f"; within 10% for {', '.join(study.title(b) for b in close)}"
    else:
        verdict = "below" if hi_s < 0.9 else ("above" if lo_s > 1.1 else "differs")
    out.append(("Throughput, 64 PEs", f"{PAPER['gops']:.0f} GOP/s on the compressed network", ours, verdict))
    areas = {r.get("area_total_mm2") for r in rows if r.get("area_total_mm2") is not None}
    if areas:
        base = [r["area_total_mm2"] for r in rows if not (study.specs.get(r["benchmark"], {}).get("arch"))]
        a = base[0] if base else min(areas)
        out.append(("Area, 64 PEs", f"{PAPER['area_mm2']} mm^2", f"{a:.2f} mm^2 (the sum of the published module "
                    "areas, docs/energy-area.md section 6)" + (
                        f"; {', '.join(study.title(r['benchmark']) for r in rows if study.specs.get(r['benchmark'], {}).get('arch'))} "
                        f"with its own larger memories: up to {max(areas):.2f} mm^2" if max(areas) > a + 1e-6 else ""),
                    "agrees (by construction)" if abs(a - PAPER["area_mm2"]) / PAPER["area_mm2"] < 0.01 else "differs"))
    return out


def comparisons(study, figures):
    by = {f.name: f for f in figures}
    out = []
    if "load_balance_vs_queue_depth" in by:
        out += compare_queue_depth(study, by["load_balance_vs_queue_depth"])
    if "speedup_vs_pes" in by:
        out += compare_scaling(study, by["speedup_vs_pes"])
    if "spmat_vs_sram_width" in by:
        out += compare_width(study, by["spmat_vs_sram_width"])
    out += compare_paper_config(study)
    return out


def comparison_table(items):
    lines = ["| observation | paper | this model | verdict |", "|---|---|---|---|"]
    for what, paper, ours, verdict in items:
        lines.append(f"| {what} | {paper} | {ours} | **{verdict}** |")
    return "\n".join(lines)


# ---------------------------------------------------------------- the report

def _rel(path, start):
    return os.path.relpath(path, start).replace(os.sep, "/")


def _shown_path(path):
    a = os.path.abspath(path)
    return _rel(a, ROOT) if a.startswith(ROOT + os.sep) else a


def _git_revision():
    try:
        out = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             timeout=10)
        return out.stdout.strip() if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def study_section(study, figures, skipped, out_dir, show_benchmarks=True):
    rows = study.rows
    counts = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    exact = sum(1 for r in rows if r.get("bit_exact") is True)
    md = [f"## {study.name}", ""]
    if study.sweep.get("description"):
        md += [study.sweep["description"], ""]
    src = study.sweep.get("file")
    facts = [f"{len(rows)} points ({', '.join(f'{n} {s}' for s, n in sorted(counts.items()))}; "
             f"{exact} bit-exact against the golden model)",
             f"results `{_shown_path(study.csv)}`"]
    if src:
        facts.insert(0, f"sweep file `{_shown_path(src) if os.path.isabs(src) else src}`")
    if study.run_info:
        wall, reused = study.run_info
        facts.append(f"this run took {wall:.1f} s ({reused} points reused from earlier runs)")
    md += ["; ".join(facts) + ".", ""]
    vary = plots.varying(study.ok) if study.ok else []
    if not vary:
        md += [results_table(study), ""]
    for f in figures:
        rel_png = _rel(f.png, out_dir)
        rel_svg = _rel(f.svg, out_dir)
        md += [f"### {f.title}", "", f"![{f.title}]({rel_png})", "", f"{f.sentence} ([SVG]({rel_svg}))", ""]
    if not figures:
        md += ["No figure: no point ran successfully.", ""]
    elif skipped:
        still = [n for n, why in skipped if "does not vary" in why]
        other = [(n, why) for n, why in skipped if "does not vary" not in why]
        if still:
            md += ["Not drawn, as their parameter does not vary in this study: "
                   + ", ".join(f"`{n}`" for n in still) + ".", ""]
        if other:
            md += ["Also not drawn: " + "; ".join(f"`{n}` ({why})" for n, why in other) + ".", ""]
    comp = comparisons(study, figures)
    if comp:
        md += ["### Against the paper", "", comparison_table(comp), ""]
    if show_benchmarks:
        md += ["### Benchmarks", "", bench_table(study), ""]
    md += ["### Configuration", "",
           "As simulated (eie-sim's statistics, `arch`), every parameter of `hw/arch_config.hpp`:", "",
           config_table(study), ""]
    energy_src = None
    for rec in study.records.values():
        energy_src = ((rec.get("stats") or {}).get("energy_table") or {}).get("source")
        if energy_src:
            break
    if energy_src:
        md += [f"Energy table: {energy_src}.", ""]
    return "\n".join(md), comp


def build_report(studies, out_dir, bars_for=None):
    """Plots every study into a staging directory, composes report.md, then replaces each study's
    OUT/figures/<study>/ with its staged figures (one atomic directory exchange each) and writes
    report.md (common.atomic_write_text), so a failed or killed run leaves the previous report and
    figures as they were, or the complete new ones. bars_for: study names that get the per-benchmark
    bars even though a parameter varies (default: every study when none has a fixed
    configuration, else none). Returns (report path, [(study, figures, skipped)])."""
    out_dir = os.path.abspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    names = [s.name for s in studies]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise StudyError(f"two studies are named {', '.join(dup)}: give result directories of different sweeps")
    fixed = [s for s in studies if s.ok and not plots.varying(s.ok)]
    if bars_for is None:
        bars_for = set() if fixed else set(names)
    made_all = []
    with contextlib.ExitStack() as staged:
        # One staging directory per study, next to its final OUT/figures/<study>; all are published
        # only once the report text is composed (an exception removes them, and OUT is unchanged).
        stages = {s.name: staged.enter_context(atomic_directory(os.path.join(out_dir, "figures", s.name)))
                  for s in studies}
        sections, summary = [], []
        tables = {bench_table(s) for s in studies}
        shared_benchmarks = len(studies) > 1 and len(tables) == 1
        for s in studies:
            made, skipped = plots.make_plots(s.rows, stages[s.name], s.titles, bars=s.name in bars_for)
            # The report refers to the final place of each figure.
            final_dir = os.path.join(out_dir, "figures", s.name)
            for f in made:
                f.png = os.path.join(final_dir, os.path.basename(f.png))
                f.svg = os.path.join(final_dir, os.path.basename(f.svg))
            text, comp = study_section(s, made, skipped, out_dir, show_benchmarks=not shared_benchmarks)
            sections.append(text)
            summary += [(f"{what} ([{s.name}](#{s.name}))", paper, ours, verdict) for what, paper, ours, verdict in comp]
            made_all.append((s, made, skipped))
        rev = _git_revision()
        n_points = sum(len(s.rows) for s in studies)
        n_exact = sum(1 for s in studies for r in s.rows if r.get("bit_exact") is True)
        versions = sorted({(rec.get("stats") or {}).get("version") for s in studies for rec in s.records.values()
                           if (rec.get("stats") or {}).get("version")})
        head = ["# EIE architecture studies", "",
                f"Generated by `scripts/report` on {datetime.date.today().isoformat()}"
                + (f" at commit {rev}" if rev else "")
                + (f" with eie-sim {', '.join(versions)}" if versions else "")
                + ", from the cycle-accurate model (`eie-sim`) and the Deep Compression front-end "
                  f"(`eie-compress`); {n_exact} of {n_points} points are bit-exact against the golden model"
                + ("" if n_exact == n_points else " (the others are listed in their study's section)") + ". "
                  "docs/studies.md explains the studies, the CSV columns and the figures, docs/benchmarks.md the "
                  "benchmark layers and docs/energy-area.md the energy model.", "",
                "Studies: " + ", ".join(f"[{s.name}](#{s.name})" for s in studies) + ".", ""]
        if summary:
            head += ["## Comparison with the paper", "",
                     "The paper's observations are those of EIE section VI, Figures 8, 9 and 11 (docs/reference.md, \"Published figures\"). "
                     f"\"Near-linear\" is read as at least {_pct(NEAR_LINEAR)} of the ideal speedup, \"little gain\" "
                     f"as less than {100 * SMALL_GAIN:.0f} points of load-balance efficiency.", "",
                     comparison_table(summary), ""]
        if shared_benchmarks:
            head += ["## Benchmarks", "", "The same in every study:", "", tables.pop(), ""]
        text = "\n".join(head) + "\n" + "\n".join(sections)
        report = os.path.join(out_dir, "report.md")
    # Leaving the block published every study's figures; the report that refers to them is last.
    atomic_write_text(report, text)
    return report, made_all
