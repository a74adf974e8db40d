"""The architecture parameter table, as eie-sim reports it.

hw/arch_config.hpp is the single source of every parameter's name, type, default, range, unit,
class (timing / layout / quantisation) and whether the encoder may grow it (grown_by_encoder).
`eie-sim --list-params --json` prints that table and `eie-sim --check-config` applies every rule of
the model to whole configurations (docs/eie-sim.md), so nothing here parses C++ or repeats a rule:
a parameter added to the table appears in sweeps without an edit here.
"""
import json
import subprocess

from .common import StudyError, ensure_tools, tool

_INT_TYPES = ("uint32", "uint64")


def _run_eie_sim(args, stdin_text=None):
    ensure_tools(("eie-sim",))
    try:
        return subprocess.run([tool("eie-sim")] + args, input=stdin_text, capture_output=True, text=True,
                              timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise StudyError(f"{tool('eie-sim')} {' '.join(args)}: {e}") from None


class Param:
    __slots__ = ("name", "type", "default", "unit", "doc", "min", "max", "cls", "grown_by_encoder")

    def __init__(self, name, type_, default, unit, doc, lo, hi, cls, grown_by_encoder):
        self.name, self.type, self.default, self.unit, self.doc = name, type_, default, unit, doc
        self.min, self.max, self.cls, self.grown_by_encoder = lo, hi, cls, grown_by_encoder

    @property
    def is_bool(self):
        return self.type == "bool"

    @property
    def is_int(self):
        return self.type in _INT_TYPES

    def allowed(self):
        if self.is_bool:
            return "true or false"
        kind = "an integer" if self.is_int else "a number"
        unit = f" {self.unit}" if self.unit else ""
        return f"{kind} in {fmt_value(self.min)} .. {fmt_value(self.max)}{unit}"

    def check(self, value, where):
        """Returns the value normalised to the parameter's type; raises StudyError naming `where`."""
        shown = _show(value)
        if self.is_bool:
            if isinstance(value, bool):
                return value
            raise StudyError(f"{where}: {self.name} = {shown} is not allowed ({self.allowed()})")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise StudyError(f"{where}: {self.name} = {shown} is not a number (allowed: {self.allowed()})")
        if value != value or not (self.min <= value <= self.max):
            raise StudyError(f"{where}: {self.name} = {shown} is out of range (allowed: {self.allowed()})")
        if self.is_int and int(value) != value:
            raise StudyError(f"{where}: {self.name} = {shown} is not an integer (allowed: {self.allowed()})")
        return int(value) if self.is_int else float(value)


def _show(v):
    import json
    try:
        return json.dumps(v)
    except (TypeError, ValueError):
        return repr(v)


def fmt_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return f"{v:g}"
    if isinstance(v, int) and v >= 1 << 20 and v & (v - 1) == 0:
        return f"2^{v.bit_length() - 1}"
    return str(v)


_TABLE = None


def table():
    """The parameters in documentation order (a list of Param), from eie-sim --list-params --json."""
    global _TABLE
    if _TABLE is not None:
        return _TABLE
    r = _run_eie_sim(["--list-params", "--json"])
    try:
        doc = json.loads(r.stdout) if r.returncode == 0 else None
        if doc.get("format") != "eie-params" or doc.get("version") != 1:
            raise ValueError(f"format {doc.get('format')!r} version {doc.get('version')!r}")
        params = [Param(e["name"], e["type"], e["default"], e["unit"], e["doc"], e["min"], e["max"], e["class"],
                        e["grown_by_encoder"])
                  for e in doc["params"]]
        if any(not isinstance(p.grown_by_encoder, bool) for p in params):
            raise ValueError("grown_by_encoder is not true or false")
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise StudyError(f"{tool('eie-sim')} --list-params --json: not the parameter table "
                         f"(exit {r.returncode}: {(r.stderr or str(e)).strip()[:200]})") from None
    _TABLE = params
    return params


def by_name():
    return {p.name: p for p in table()}


def names():
    return [p.name for p in table()]


def defaults():
    return {p.name: p.default for p in table()}


def quantisation_names():
    return [p.name for p in table() if p.cls == "quantisation"]


def layout_names():
    return [p.name for p in table() if p.cls == "layout"]


def grown_names():
    """The parameters grow_memories may enlarge (the encoder's growth, compress/encode.cpp), whose
    simulated value can differ from the requested one."""
    return [p.name for p in table() if p.grown_by_encoder]


def check_configs(checks):
    """Checks full configurations with every rule of the model (eie-sim --check-config), in one
    call: `checks` is a list of (where, config dict). Raises StudyError for the first invalid one,
    naming its `where`."""
    if not checks:
        return
    r = _run_eie_sim(["--check-config", "-", "--json"], json.dumps([c for _, c in checks]))
    try:
        results = json.loads(r.stdout)["results"]
        if len(results) != len(checks):
            raise ValueError(f"{len(results)} results for {len(checks)} configurations")
    except (ValueError, TypeError, KeyError) as e:
        raise StudyError(f"{tool('eie-sim')} --check-config: no result (exit {r.returncode}: "
                         f"{(r.stderr or str(e)).strip()[:200]})") from None
    for (where, _), res in zip(checks, results):
        if not res["ok"]:
            raise StudyError(f"{where}: {res['reason']}")


def set_args(cfg, only=None):
    """--set name=value arguments for the tools (every parameter, or those in `only`)."""
    out = []
    for p in table():
        if only is not None and p.name not in only:
            continue
        v = cfg[p.name]
        text = ("true" if v else "false") if p.is_bool else (str(int(v)) if p.is_int else repr(float(v)))
        out += ["--set", f"{p.name}={text}"]
    return out
