"""Running a validated sweep end to end (shared by scripts/sweep, scripts/suite and scripts/report)."""
import collections
import json
import os
import sys

from . import results
from .common import ROOT, StudyError, atomic_write_json, ensure_tools
from .runner import Runner, load_point


def default_out(name):
    return os.path.join(ROOT, "out", "sweeps", name)


def check_out_dir(sweep, out):
    """Refuses an output directory that holds another sweep (its OUT/sweep.json names another
    sweep), before anything is written. The same sweep edited (same name) is resumed."""
    path = os.path.join(out, "sweep.json")
    if not os.path.exists(path):
        return
    try:
        with open(path) as f:
            held = json.load(f)
        name = held.get("name") if isinstance(held, dict) else None
    except (OSError, ValueError):
        name = None
    if name is None:
        raise StudyError(f"{out}: output directory holds an unreadable {path}: not a result directory of "
                         "scripts/sweep? give another --out")
    if name != sweep.name:
        raise StudyError(f"{out}: output directory holds the sweep '{name}' (from {held.get('file')}), not "
                         f"'{sweep.name}' (from {sweep.path}): give another --out")


def write_results(sweep, out, records):
    """OUT/sweep.json and OUT/results.csv from the records of the points done (one row each).
    Returns (rows sorted, columns)."""
    atomic_write_json(os.path.join(out, "sweep.json"), sweep.describe())
    rows = [results.summary(records[p.id]) for p in sweep.point_list if p.id in records]
    bench_order = [s["name"] for s in sweep.specs]
    return results.write_csv(os.path.join(out, "results.csv"), rows, bench_order)


def done_records(sweep, out):
    """The records of the sweep's points whose files in OUT/points are complete."""
    records = {}
    for p in sweep.point_list:
        rec = load_point(os.path.join(out, "points", p.id + ".json"), p.id)
        if rec is not None:
            records[p.id] = rec
    return records


def run_sweep(sweep, out, jobs, quiet=False, label="sweep"):
    """Runs every point (skipping finished ones), writes OUT/sweep.json and OUT/results.csv.
    Returns (rows sorted, columns, errors, counts by status, skipped)."""
    ensure_tools()
    check_out_dir(sweep, out)
    runner = Runner(out, jobs, quiet=quiet, label=label)
    records, errors, skipped = runner.run(sweep.point_list)
    rows, cols = write_results(sweep, runner.out, records)
    counts = collections.Counter(r["status"] for r in rows)
    if not quiet:
        parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        print(f"{label}: {len(rows)}/{len(sweep.point_list)} points in {os.path.join(runner.out, 'results.csv')} "
              f"({parts}; {skipped} skipped as already done)", file=sys.stderr)
    for e in errors:
        print(f"{label}: error: {e}", file=sys.stderr)
    for r in rows:
        if r["status"] == "mismatch":
            print(f"{label}: MISMATCH (not bit-exact) at point {r['point_id']}: see "
                  f"{os.path.join(runner.out, 'points', r['point_id'] + '.json')}", file=sys.stderr)
    return rows, cols, errors, counts, skipped
