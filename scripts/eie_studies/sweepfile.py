"""Sweep files: parsing, complete validation and expansion into points.

A sweep file is a JSON object (docs/studies.md, "Sweep file format"):

  {
    "name": "queue-depth",                       optional, default: the file name
    "description": "...",                        optional
    "benchmarks": "all" | ["alex7", "my/spec.json", {inline spec}, ...],
    "placement": "uniform" | "skewed",           optional: overrides every spec's placement
    "base": {"grow_memories": true},             optional: overrides applied to every point
    "params": {"queue_depth": {"from": 1, "to": 256, "scale": "pow2"},
               "num_pes": [16, 64]},             cross product ...
    "points": [{"num_pes": 4}, {"num_pes": 8, "queue_depth": 2}],   ... or an explicit list
    "energy_table": "path/table.json"            optional: passed to eie-sim --energy-table
  }

Everything is checked before any point runs; an error names the file, the field, the value and
what is allowed.
"""
import hashlib
import itertools
import json
import math
import os
import re

from . import benchmarks, params
from .common import StudyError, load_json

TOP_KEYS = ("name", "description", "benchmarks", "placement", "base", "params", "points", "energy_table")
RANGE_KEYS = ("from", "to", "scale", "step")
# The most points a sweep may have: each is a simulation (seconds to minutes), so more would not
# finish; checked from the axes' lengths before any point (or anything on disk) is made.
MAX_POINTS = 100000
# A pow2 range doubles (step) times per value: beyond 2^64 no parameter has a value.
MAX_POW2_STEP = 64
# A sweep's name becomes a directory under out/sweeps: one path component of these characters.
NAME_CHARS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")


class Point:
    """One (benchmark, configuration) to simulate."""

    def __init__(self, spec, placement, overrides, config, swept, energy_table):
        self.spec = spec                # resolved benchmark spec (placement already applied)
        self.placement = placement
        self.overrides = overrides      # base + point values, as given (parameter -> value)
        self.config = config            # every parameter: defaults < spec arch < base < point
        self.swept = swept              # the point's own values (parameter -> value)
        self.energy_table = energy_table
        self.id = point_id(spec, config, energy_table)

    @property
    def bench(self):
        return self.spec["name"]

    def cost(self):
        """A rough relative cost (simulated PE-cycles plus image handling), to start long points first."""
        s, c = self.spec, self.config
        if s.get("kind") == "network":  # a whole input set per point: the longest points
            return 1.0e3 + (s["count"] or 1.0e4) / 1.0e2 * max(1.0, 16.0 / c["num_pes"])
        work = s["in_len"] * s["out_len"] * s["weight_density"] * max(s["act_density"], 0.01)
        size = s["in_len"] * s["out_len"] * s["weight_density"]
        return work / 1.0e7 * max(1.0, 16.0 / c["num_pes"]) + size / 1.0e6


def _canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _file_digest(path):
    if not path:
        return None
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def point_id(spec, config, energy_table):
    """Stable id: a hash of what determines the result (the layer's data, the full configuration
    and the energy table's contents), prefixed by the benchmark name for readability."""
    key = {"benchmark": spec["name"], "layer": benchmarks.identity(spec), "config": config,
           "energy_table": _file_digest(energy_table)}
    run = benchmarks.run_identity(spec)
    if run is not None:  # synthetic layers keep the ids they always had
        key["run"] = run
    return f"{spec['name']}-{hashlib.sha256(_canonical(key).encode()).hexdigest()[:16]}"


def _expand_range(name, param, rng, where):
    """Values of one parameter range: a list, or {"from", "to", "scale", "step"}."""
    if isinstance(rng, list):
        if not rng:
            raise StudyError(f"{where}: {name} = [] is an empty range (give at least one value: "
                             f"{param.allowed()})")
        return [param.check(v, where) for v in rng]
    if not isinstance(rng, dict):
        raise StudyError(f"{where}: {name} = {_show(rng)} is not a range (allowed: a list of values, or "
                         "{\"from\": a, \"to\": b, \"scale\": \"pow2\"|\"linear\", \"step\": k})")
    for k in rng:
        if k not in RANGE_KEYS:
            raise StudyError(f"{where}: {name}: unknown range field '{k}' (known: {', '.join(RANGE_KEYS)})")
    if param.is_bool:
        raise StudyError(f"{where}: {name} is true/false: give a list such as [false, true], not a range")
    for k in ("from", "to"):
        if k not in rng:
            raise StudyError(f"{where}: {name}: range field '{k}' is missing")
    lo = param.check(rng["from"], f"{where}: {name}.from")
    hi = param.check(rng["to"], f"{where}: {name}.to")
    scale = rng.get("scale", "linear")
    if scale not in ("pow2", "linear"):
        raise StudyError(f"{where}: {name}.scale = {_show(scale)} is not allowed (pow2 or linear)")
    step = rng.get("step", 1)
    if isinstance(step, bool) or not isinstance(step, (int, float)) or not math.isfinite(step) or not step > 0 or \
            (scale == "pow2" and (int(step) != step or step > MAX_POW2_STEP)) or (param.is_int and int(step) != step):
        allowed = f"an integer in 1 .. {MAX_POW2_STEP} (powers of two: the exponent step)" if scale == "pow2" \
            else "a positive integer" if param.is_int else "a positive number"
        raise StudyError(f"{where}: {name}.step = {_show(step)} is not allowed ({allowed})")
    if lo > hi:
        raise StudyError(f"{where}: {name}: from = {_show(rng['from'])} > to = {_show(rng['to'])} "
                         "is an empty range")
    values = []
    if scale == "pow2":
        if lo <= 0:
            raise StudyError(f"{where}: {name}.from = {_show(rng['from'])}: a pow2 range needs from > 0")
        v = lo
        while v <= hi * (1 + 1e-12):
            values.append(v)
            v = v * (2 ** int(step))
            if len(values) > MAX_POINTS:
                break
    else:
        span = (hi - lo) / step
        if not math.isfinite(span) or span > MAX_POINTS:
            raise StudyError(f"{where}: {name}: the range has more than {MAX_POINTS} values "
                             f"(from {_show(rng['from'])} to {_show(rng['to'])} in steps of {_show(step)}; "
                             f"at most {MAX_POINTS})")
        n = int(math.floor(span + 1e-9)) + 1
        if n > MAX_POINTS:
            raise StudyError(f"{where}: {name}: the range has {n} values (at most {MAX_POINTS})")
        values = [lo + i * step for i in range(n)]
    return [param.check(int(v) if param.is_int else float(v), f"{where}: {name}") for v in values]


def _show(v):
    """A value for a message: JSON, cut at 60 characters, never raising (deep nesting, huge numbers)."""
    try:
        text = json.dumps(v)
    except (TypeError, ValueError, RecursionError):
        text = repr(type(v).__name__)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_point_count(path, n_benchmarks, axis_lengths):
    """Refuses a sweep with more than MAX_POINTS points, from the counts alone (nothing is built)."""
    n = n_benchmarks
    for k in axis_lengths:
        n *= k
    if n > MAX_POINTS:
        shape = " x ".join(str(k) for k in [n_benchmarks] + list(axis_lengths))
        raise StudyError(f"{path}: {n} points ({shape}: benchmarks x values per parameter) is more than a sweep "
                         f"can run (at most {MAX_POINTS})")


def _check_energy_table(path, where):
    """The energy table must be a JSON object (eie-sim checks every field; this catches the wrong file early)."""
    try:
        with open(path, "rb") as f:
            obj = json.loads(f.read(16 << 20).decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        raise StudyError(f"{where}: not a readable JSON energy table ({type(e).__name__}: {str(e)[:80]})") from None
    if not isinstance(obj, dict):
        raise StudyError(f"{where}: an energy table is a JSON object of component: value, not {type(obj).__name__}")


def _check_overrides(obj, where):
    if not isinstance(obj, dict):
        raise StudyError(f"{where} = {_show(obj)} must be an object of parameter: value")
    table = params.by_name()
    out = {}
    for k, v in obj.items():
        if k not in table:
            raise StudyError(f"{where}: unknown parameter '{k}' (known: {', '.join(params.names())})")
        out[k] = table[k].check(v, where)
    return out


class Sweep:
    def __init__(self, path, name, description, specs, placement, base, axes, points, energy_table, raw):
        self.path, self.name, self.description = path, name, description
        self.specs, self.placement, self.base = specs, placement, base
        self.axes = axes              # parameter -> list of values (cross product), or {} with explicit points
        self.point_list = points      # the Point objects, in file order (benchmark-major)
        self.energy_table = energy_table
        self.raw = raw

    def swept_names(self):
        """Parameters that the points set (in table order)."""
        used = set()
        for p in self.point_list:
            used.update(p.swept)
        return [n for n in params.names() if n in used]

    def describe(self):
        """A JSON-able summary of the sweep (written next to the results)."""
        return {"name": self.name, "description": self.description, "file": self.path,
                "benchmarks": [s["name"] for s in self.specs],
                "specs": {s["name"]: s for s in self.specs},
                "placement": self.placement, "base": self.base, "axes": self.axes,
                "swept": self.swept_names(), "points": len(self.point_list),
                "energy_table": self.energy_table}


def parse_sweep(obj, path, base_dir=None):
    """Validates a sweep object (already read from `path`) and expands it into points."""
    base_dir = base_dir or os.path.dirname(os.path.abspath(path))
    if not isinstance(obj, dict):
        raise StudyError(f"{path}: a sweep file must hold a JSON object (fields: {', '.join(TOP_KEYS)})")
    for k in obj:
        if k not in TOP_KEYS:
            raise StudyError(f"{path}: unknown field '{k}' (known: {', '.join(TOP_KEYS)})")
    name = obj.get("name", os.path.splitext(os.path.basename(path))[0])
    description = obj.get("description", "")
    for key, val in (("name", name), ("description", description)):
        if not isinstance(val, str):
            raise StudyError(f"{path}: {key} = {_show(val)} must be a string")
    if not NAME_CHARS.match(name) or name in (".", ".."):
        # The name is the results directory's: it must not leave out/sweeps (no '/', no '..').
        raise StudyError(f"{path}: name = {_show(name)} is not allowed (one path component of at most 128 "
                         "letters, digits and . _ + -, starting with a letter or digit)")
    if "benchmarks" not in obj:
        raise StudyError(f"{path}: field 'benchmarks' is missing (\"all\" or a list of names "
                         f"({', '.join(benchmarks.known_names())}), spec files or inline specs)")
    specs = benchmarks.resolve_list(obj["benchmarks"], f"{path}: benchmarks", base_dir)
    placement = obj.get("placement")
    if placement is not None and placement not in benchmarks.PLACEMENTS:
        raise StudyError(f"{path}: placement = {_show(placement)} is not allowed (uniform or skewed)")
    base = _check_overrides(obj.get("base", {}), f"{path}: base")
    energy_table = obj.get("energy_table")
    if energy_table is not None:
        if not isinstance(energy_table, str) or not energy_table:
            raise StudyError(f"{path}: energy_table = {_show(energy_table)} must be a path to a JSON file")
        et = energy_table if os.path.isabs(energy_table) else os.path.join(base_dir, energy_table)
        if not os.path.isfile(et):
            raise StudyError(f"{path}: energy_table = {_show(energy_table)}: file not found (looked at {et})")
        _check_energy_table(et, f"{path}: energy_table = {_show(energy_table)}")
        energy_table = os.path.abspath(et)
    if "params" in obj and "points" in obj:
        raise StudyError(f"{path}: give either 'params' (a cross product of ranges) or 'points' (an explicit "
                         "list), not both")
    table = params.by_name()
    axes = {}
    combos = [{}]
    if "params" in obj:
        ranges = obj["params"]
        if not isinstance(ranges, dict):
            raise StudyError(f"{path}: params = {_show(ranges)} must be an object of parameter: range")
        for k, rng in ranges.items():
            if k not in table:
                raise StudyError(f"{path}: params: unknown parameter '{k}' (known: {', '.join(params.names())})")
            axes[k] = _expand_range(k, table[k], rng, f"{path}: params")
        keys = list(axes)
        _check_point_count(path, len(specs), [len(axes[k]) for k in keys])
        combos = [dict(zip(keys, vals)) for vals in itertools.product(*(axes[k] for k in keys))]
    elif "points" in obj:
        pts = obj["points"]
        if not isinstance(pts, list) or not pts:
            raise StudyError(f"{path}: points = {_show(pts)} must be a non-empty list of objects "
                             "of parameter: value")
        combos = [_check_overrides(p, f"{path}: points[{i}]") for i, p in enumerate(pts)]
    _check_point_count(path, len(specs), [len(combos)])

    points, seen, checks = [], set(), []
    for spec in specs:
        spec = dict(spec)
        if placement:
            spec["placement"] = placement
        for i, combo in enumerate(combos):
            overrides = dict(base)
            overrides.update(combo)
            config = params.defaults()
            config.update(spec["arch"])
            config.update(overrides)
            where = f"{path}: benchmark {spec['name']}, point {i} ({', '.join(f'{k}={params.fmt_value(v)}' for k, v in combo.items()) or 'base'})"
            checks.append((where, config))
            p = Point(spec, spec["placement"], overrides, config, combo, energy_table)
            if p.id in seen:
                continue  # the same configuration twice (e.g. a value listed twice): run it once
            seen.add(p.id)
            points.append(p)
    params.check_configs(checks)
    return Sweep(path, name, description, specs, placement, base, axes, points, energy_table, obj)


def load_sweep(path):
    obj = load_json(path, "sweep file")
    return parse_sweep(obj, path)
