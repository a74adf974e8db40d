"""The architecture parameter table, read from hw/arch_config.hpp.

hw/arch_config.hpp is the single source of every parameter's name, default, range, unit and
class (timing / layout / quantisation). Rather than keep a copy that could drift, this module
parses the two places of the header that hold them: the ArchConfig member declarations (type and
default) and the for_each_param() table (unit, doc, min, max, class). It fails loudly if the header
no longer has the expected shape. validate_config() mirrors ArchConfig::validate() (the
cross-field rules) so a sweep file can be checked completely before any point runs;
testbenches/cli/sweep_errors.sh checks the mirror against the tools.
"""
import ast
import os
import re

from .common import ROOT, StudyError

HEADER = os.path.join(ROOT, "hw", "arch_config.hpp")

_DECL = re.compile(r"^\s*(uint32_t|uint64_t|double|bool)\s+(\w+)\s*=\s*([^;]+);", re.M)
_SPEC = re.compile(r'f\(ParamSpec\{"(\w+)",\s*"([^"]*)",\s*"((?:[^"\\]|\\.)*)",\s*([^,]+),\s*([^,]+),\s*PC::(\w+)(?:,\s*\w+)?\},'
                   r"\s*c\.(\w+)\);")


def _cpp_number(text):
    """Evaluates the constant expressions the header uses: 128 * 1024, 1 << 20, 1ull << 40, 1e-3, true."""
    t = text.strip()
    if t in ("true", "false"):
        return t == "true"
    t = re.sub(r"(?<=[0-9])(ull|ul|u|ll|l)\b", "", t, flags=re.I)
    node = ast.parse(t, mode="eval").body

    def ev(n):
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)):
            return n.value
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return -ev(n.operand)
        if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.LShift, ast.Mult, ast.Add, ast.Sub)):
            a, b = ev(n.left), ev(n.right)
            return {ast.LShift: lambda: a << b, ast.Mult: lambda: a * b,
                    ast.Add: lambda: a + b, ast.Sub: lambda: a - b}[type(n.op)]()
        raise ValueError(text)

    return ev(node)


class Param:
    __slots__ = ("name", "type", "default", "unit", "doc", "min", "max", "cls")

    def __init__(self, name, type_, default, unit, doc, lo, hi, cls):
        self.name, self.type, self.default, self.unit, self.doc = name, type_, default, unit, doc
        self.min, self.max, self.cls = lo, hi, cls

    @property
    def is_bool(self):
        return self.type == "bool"

    @property
    def is_int(self):
        return self.type in ("uint32_t", "uint64_t")

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
    """The parameters in documentation order (a list of Param)."""
    global _TABLE
    if _TABLE is not None:
        return _TABLE
    try:
        with open(HEADER) as f:
            text = f.read()
    except OSError as e:
        raise StudyError(f"{HEADER}: cannot read the parameter table: {e.strerror}") from None
    struct = text[text.index("struct ArchConfig {"):]
    struct = struct[:struct.index("// Derived")]
    decls = {m.group(2): (m.group(1), _cpp_number(m.group(3))) for m in _DECL.finditer(struct)}
    params = []
    for m in _SPEC.finditer(text):
        name, unit, doc, lo, hi, cls, field = m.groups()
        if name != field or name not in decls:
            raise StudyError(f"{HEADER}: cannot match parameter '{name}' to an ArchConfig member")
        type_, default = decls[name]
        params.append(Param(name, type_, default, unit, doc, _cpp_number(lo), _cpp_number(hi), cls))
    if not params or len(params) != len(decls):
        raise StudyError(f"{HEADER}: parsed {len(params)} parameter specs for {len(decls)} ArchConfig members: "
                         "the header's layout changed, update scripts/eie_studies/params.py")
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


def validate_config(cfg, where):
    """Mirror of ArchConfig::validate()'s cross-field rules for a full configuration dict."""
    entry_bits = cfg["weight_bits"] + cfg["index_bits"]

    def fail(msg):
        raise StudyError(f"{where}: {msg}")

    if entry_bits > 16:
        fail(f"weight_bits + index_bits = {entry_bits} exceeds 16 (an entry is stored in 16 bits)")
    if cfg["spmat_line_bits"] % 8:
        fail(f"spmat_line_bits = {cfg['spmat_line_bits']} must be a multiple of 8")
    if cfg["spmat_line_bits"] // entry_bits == 0:
        fail(f"spmat_line_bits = {cfg['spmat_line_bits']} cannot hold one {entry_bits}-bit entry "
             "(weight_bits + index_bits)")
    if (cfg["spmat_sram_bytes"] * 8) % cfg["spmat_line_bits"]:
        fail(f"spmat_sram_bytes = {cfg['spmat_sram_bytes']} is not a whole number of "
             f"{cfg['spmat_line_bits']}-bit lines")
    if cfg["ptr_sram_bytes"] * 8 // cfg["ptr_bits"] < 2:
        fail(f"ptr_sram_bytes = {cfg['ptr_sram_bytes']} holds fewer than two {cfg['ptr_bits']}-bit pointers")
    if cfg["codebook_value_bits"] < cfg["weight_bits"]:
        fail(f"codebook_value_bits = {cfg['codebook_value_bits']} is narrower than weight_bits = "
             f"{cfg['weight_bits']}")


def set_args(cfg, only=None):
    """--set name=value arguments for the tools (every parameter, or those in `only`)."""
    out = []
    for p in table():
        if only is not None and p.name not in only:
            continue
        v = cfg[p.name]
        text = ("true" if v else "false") if p.is_bool else (repr(float(v)) if p.type == "double" else str(int(v)))
        out += ["--set", f"{p.name}={text}"]
    return out
