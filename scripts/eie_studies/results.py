"""From point records to summary rows and results.csv.

A point's summary is eie-sim's run totals (a benchmark is one layer: that layer's figures; the
derived figures are eie-sim's, never recomputed here), flattened: nested objects
become column names joined by '_' (total.busy_cycles -> total_busy_cycles); per-PE arrays stay in
the point's JSON file. docs/studies.md lists the columns.
"""
import csv
import io

from . import params
from .common import StudyError, atomic_write_text

LEAD = ["point_id", "benchmark", "placement", "status", "bit_exact", "reencoded"]
SPEC = ["in_len", "out_len", "weight_density", "act_density", "seed", "activation", "bias"]
# The figures people look for first, in this order, when present; everything else follows.
PREFERRED = ["cycles", "time_us", "gops", "load_balance_efficiency", "useful_work", "real_work_ratio",
             "padding_share", "closed_form_cycles", "useful_macs", "batches", "energy_uj", "power_mw"]
SKIP_KEYS = {"per_pe", "name", "arch", "layers", "pes", "command_line", "num_pes", "clock_mhz"}
# For each parameter grow_memories may enlarge (params.grown_names(): the parameter table marks them
# grown_by_encoder), a "simulated_" column holds the value eie-sim actually ran with (its statistics'
# "arch"), next to the requested one.


def flatten(obj, prefix="", out=None):
    out = {} if out is None else out
    for k, v in obj.items():
        if k in SKIP_KEYS:
            continue
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            flatten(v, name + "_", out)
        elif isinstance(v, (int, float, bool)) or v is None:
            out[name] = v
        elif isinstance(v, str) and not prefix:
            out[name] = v
    return out


def batch_columns(batch):
    """A user-network point (eie-sim --inputs): its accuracy and per-inference distributions."""
    row = {"inputs": batch.get("count")}
    acc = batch.get("accuracy") or {}
    row["accuracy_top1"] = acc.get("top1")
    row["accuracy_top5"] = acc.get("top5")
    for fig, dist in (batch.get("per_inference") or {}).items():
        if isinstance(dist, dict) and "median" in dist:
            for k, v in dist.items():
                row[f"per_inference_{fig}_{k}"] = v
    return row


def summary(rec):
    """The flat row of one point record: eie-sim's run totals (the whole image; a benchmark is one
    layer, so they are that layer's figures), its area and I/O figures and run facts."""
    row = {"point_id": rec["point_id"], "benchmark": rec["benchmark"], "placement": rec["placement"],
           "status": rec["status"], "reencoded": rec.get("reencoded", False)}
    for k in params.names():
        row[k] = rec["config"][k]
    for k in SPEC:
        row[k] = rec["spec"][k]
    stats = rec.get("stats")
    if stats:
        row["bit_exact"] = stats.get("bit_exact")
        arch = stats.get("arch") if isinstance(stats.get("arch"), dict) else {}
        for k in params.grown_names():
            row["simulated_" + k] = arch.get(k)
        row["reencoded"] = stats.get("reencoded", row["reencoded"])
        # eie-sim computes every derived figure (GOP/s, efficiencies) once, in C++: read, not recomputed.
        if not isinstance(stats.get("totals"), dict):
            raise StudyError(f"point {rec['point_id']}: its statistics have no 'totals' object (written by an "
                             "older eie-sim): delete the point's file to run it again")
        row.update(flatten(stats["totals"]))
        energy_pj = row.get("energy_total_pj")
        if energy_pj is not None:
            row["energy_uj"] = energy_pj / 1e6
        if row.get("energy_average_power_mw") is not None:
            row["power_mw"] = row["energy_average_power_mw"]
        for section in ("area", "io"):
            if isinstance(stats.get(section), dict):
                row.update(flatten(stats[section], section + "_"))
        if isinstance(stats.get("batch"), dict):
            row.update(batch_columns(stats["batch"]))
        for k in ("wall_seconds", "simulate_wall_seconds", "compute_wall_seconds", "pe_cycles_per_second"):
            if k in stats:
                row[k] = stats[k]
    row["tool_wall_seconds"] = rec.get("tool_wall_seconds")
    return row


def combined(rows, figure, weight):
    """eie-sim's `figure` of several runs taken as one run: the runs' own values weighted by what each
    is a ratio over (`weight`: a column, or a function of the row), so no formula of a derived figure
    (GOP/s, efficiencies) is written again here. None when the weights add up to nothing."""
    w = [weight(r) if callable(weight) else r[weight] for r in rows]
    total = sum(w)
    return sum(r[figure] * x for r, x in zip(rows, w)) / total if total else None


def order_key(bench_order):
    index = {b: i for i, b in enumerate(bench_order)}
    names = params.names()

    def key(row):
        vals = []
        for n in names:
            v = row[n]
            vals.append(float(v) if not isinstance(v, bool) else float(v))
        return (index.get(row["benchmark"], len(index)), row["benchmark"], vals, row["point_id"])

    return key


def columns(rows):
    seen = []
    present = set()
    for r in rows:
        for k in r:
            if k not in present:
                present.add(k)
                seen.append(k)
    fixed = LEAD + params.names() + ["simulated_" + k for k in params.grown_names()] + SPEC
    stats_cols = [k for k in PREFERRED if k in present]
    stats_cols += [k for k in seen if k not in fixed and k not in stats_cols and k != "tool_wall_seconds"]
    cols = [c for c in fixed if c in present or c in LEAD] + stats_cols
    if "tool_wall_seconds" in present:
        cols.append("tool_wall_seconds")
    return cols


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def to_csv(rows, bench_order):
    rows = sorted(rows, key=order_key(bench_order))
    cols = columns(rows)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in cols])
    return buf.getvalue(), rows, cols


def write_csv(path, rows, bench_order):
    text, rows, cols = to_csv(rows, bench_order)
    atomic_write_text(path, text)
    return rows, cols


# Columns that hold text or true/false; every other column of a results.csv is a number.
TEXT_COLUMNS = {"point_id", "benchmark", "placement", "status", "activation"}
BOOL_COLUMNS = {"bit_exact", "reencoded", "bias", "closed_form_equal"}


def _number_column(name):
    """Whether scripts/sweep writes numbers into this column (its own columns only: a CSV may carry
    columns of its own, which are read as they come)."""
    if name in TEXT_COLUMNS or name in BOOL_COLUMNS:
        return False
    table = params.by_name()
    if name in table:
        return not table[name].is_bool
    return (name in SPEC or name in PREFERRED or name == "tool_wall_seconds"
            or name.startswith(("total_", "ccu_", "energy_", "io_", "area_", "simulated_")))


def read_csv(path):
    """Rows of a results.csv with numbers converted (ints, floats, true/false; empty -> None).

    Raises StudyError naming the file, the line, the column and the value for anything that is not
    a well-formed results table: not CSV, a repeated column name, a row with more or fewer fields
    than the header (ragged), or text where scripts/sweep writes a number or true/false."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            try:
                header = next(reader, None)
                if header is None:
                    return [], []
                dup = sorted({c for c in header if header.count(c) > 1})
                if dup:
                    raise StudyError(f"{path}: line 1: column(s) {', '.join(repr(c) for c in dup)} appear more "
                                     "than once in the header")
                numeric = {c for c in header if _number_column(c)}
                rows = []
                for fields in reader:
                    line = reader.line_num
                    if not fields:
                        continue  # a blank line
                    if len(fields) != len(header):
                        raise StudyError(f"{path}: line {line}: {len(fields)} field(s), but the header has "
                                         f"{len(header)} (a ragged row: every row must have one value per "
                                         "column, empty for none)")
                    row = {}
                    for k, v in zip(header, fields):
                        x = _parse(v)
                        if k in numeric and x is not None and (isinstance(x, (str, bool))):
                            raise StudyError(f"{path}: line {line}: column {k} = {v!r} is not a number")
                        if k in BOOL_COLUMNS and x is not None and not isinstance(x, bool):
                            raise StudyError(f"{path}: line {line}: column {k} = {v!r}: expected true or false")
                        row[k] = x
                    rows.append(row)
            except csv.Error as e:
                raise StudyError(f"{path}: line {reader.line_num}: not a valid CSV file ({e})") from None
    except UnicodeDecodeError as e:
        raise StudyError(f"{path}: not a text (UTF-8) CSV file: byte {e.start} cannot be decoded") from None
    except OSError as e:
        raise StudyError(f"{path}: cannot read: {e.strerror or e}") from None
    return rows, header


def _parse(v):
    if v is None or v == "":
        return None
    if v == "true":
        return True
    if v == "false":
        return False
    try:
        return int(v)
    except ValueError:
        pass
    try:
        return float(v)
    except ValueError:
        return v
