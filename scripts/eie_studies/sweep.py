"""Running a validated sweep end to end (shared by scripts/sweep, scripts/suite and scripts/report)."""
import collections
import os
import sys

from . import results
from .common import ROOT, atomic_write_json, ensure_tools
from .runner import Runner


def default_out(name):
    return os.path.join(ROOT, "out", "sweeps", name)


def run_sweep(sweep, out, jobs, quiet=False, label="sweep"):
    """Runs every point (skipping finished ones), writes OUT/sweep.json and OUT/results.csv.
    Returns (rows sorted, columns, errors, counts by status, skipped)."""
    ensure_tools()
    runner = Runner(out, jobs, quiet=quiet, label=label)
    records, errors, skipped = runner.run(sweep.point_list)
    atomic_write_json(os.path.join(runner.out, "sweep.json"), sweep.describe())
    rows = [results.summary(records[p.id]) for p in sweep.point_list if p.id in records]
    bench_order = [s["name"] for s in sweep.specs]
    rows, cols = results.write_csv(os.path.join(runner.out, "results.csv"), rows, bench_order)
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
