"""Benchmark specifications: traces/benchmarks/<name>.json, or inline in a sweep file.

A spec describes one synthetic fully-connected layer completely (shape, densities, seed,
placement, activation function, bias, architecture overrides it needs); eie-compress builds it with
--synthetic, so the spec file, not a preset compiled into the tool, is what a result depends on.
docs/benchmarks.md describes the fields.
"""
import json
import os
import re

from . import params
from .common import ROOT, StudyError, load_json

BENCH_DIR = os.path.join(ROOT, "traces", "benchmarks")
# The paper's order (EIE Table III, docs/reference.md); "all" means these.
SUITE = ["alex6", "alex7", "alex8", "vgg6", "vgg7", "vgg8", "ntwe", "ntwd", "ntlstm"]
PLACEMENTS = ("uniform", "skewed")
ACTIVATIONS = ("relu", "identity")

_FIELDS = {
    "name": "a name of letters, digits, '_', '-' or '.'",
    "title": "free text (figure labels)",
    "network": "free text",
    "description": "free text",
    "in_len": "an integer in 1 .. 2^24",
    "out_len": "an integer in 1 .. 2^24",
    "weight_density": "a number in (0, 1]",
    "act_density": "a number in [0, 1]",
    "seed": "an integer in 0 .. 2^64 - 1",
    "placement": "uniform or skewed",
    "activation": "relu or identity",
    "bias": "true or false",
    "arch": "an object of architecture parameters (hw/arch_config.hpp)",
}
_REQUIRED = ("name", "in_len", "out_len", "weight_density", "act_density")


def known_names():
    try:
        return sorted(f[:-5] for f in os.listdir(BENCH_DIR) if f.endswith(".json"))
    except OSError:
        return []


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


def validate_spec(raw, where):
    """Checks a spec object and returns it complete (defaults filled in), with canonical types."""
    if not isinstance(raw, dict):
        raise StudyError(f"{where}: a benchmark spec must be a JSON object with the fields "
                         f"{', '.join(_FIELDS)}")
    for key in raw:
        if key not in _FIELDS:
            raise StudyError(f"{where}: unknown benchmark field '{key}' (known: {', '.join(_FIELDS)})")
    for key in _REQUIRED:
        if key not in raw:
            raise StudyError(f"{where}: benchmark field '{key}' is missing ({_FIELDS[key]})")
    spec = {
        "name": raw["name"], "title": raw.get("title", raw["name"]), "network": raw.get("network", ""),
        "description": raw.get("description", ""),
        "in_len": raw["in_len"], "out_len": raw["out_len"],
        "weight_density": raw["weight_density"], "act_density": raw["act_density"],
        "seed": raw.get("seed", 1), "placement": raw.get("placement", "uniform"),
        "activation": raw.get("activation", "relu"), "bias": raw.get("bias", False),
        "arch": raw.get("arch", {}),
    }

    def bad(key):
        raise StudyError(f"{where}: {key} = {json.dumps(spec[key])} is not allowed ({_FIELDS[key]})")

    if not isinstance(spec["name"], str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", spec["name"]):
        bad("name")
    for key in ("title", "network", "description"):
        if not isinstance(spec[key], str):
            bad(key)
    for key in ("in_len", "out_len"):
        if not _is_int(spec[key]) or not 1 <= spec[key] <= 1 << 24:
            bad(key)
    if not _is_num(spec["weight_density"]) or not 0 < spec["weight_density"] <= 1:
        bad("weight_density")
    if not _is_num(spec["act_density"]) or not 0 <= spec["act_density"] <= 1:
        bad("act_density")
    if not _is_int(spec["seed"]) or not 0 <= spec["seed"] < 1 << 64:
        bad("seed")
    if spec["placement"] not in PLACEMENTS:
        bad("placement")
    if spec["activation"] not in ACTIVATIONS:
        bad("activation")
    if not isinstance(spec["bias"], bool):
        bad("bias")
    if not isinstance(spec["arch"], dict):
        bad("arch")
    table = params.by_name()
    arch = {}
    for key, value in spec["arch"].items():
        if key not in table:
            raise StudyError(f"{where}: arch: unknown parameter '{key}' (known: {', '.join(params.names())})")
        arch[key] = table[key].check(value, f"{where}: arch")
    spec["arch"] = arch
    spec["weight_density"] = float(spec["weight_density"])
    spec["act_density"] = float(spec["act_density"])
    return spec


def load_spec_file(path, where=None):
    raw = load_json(path, "benchmark spec")
    spec = validate_spec(raw, where or path)
    spec["source"] = os.path.relpath(os.path.abspath(path), ROOT) if os.path.abspath(path).startswith(ROOT) else path
    return spec


def resolve(item, where, base_dir):
    """A benchmark reference from a sweep file or a command line: a suite name, a path to a spec
    file (ends in .json, relative to base_dir), or an inline spec object."""
    if isinstance(item, dict):
        spec = validate_spec(item, where)
        spec["source"] = "inline"
        return spec
    if not isinstance(item, str) or not item:
        raise StudyError(f"{where}: a benchmark is a name ({', '.join(known_names())}), a path to a spec file "
                         f"(*.json) or an inline spec object; got {json.dumps(item)}")
    if item.endswith(".json"):
        path = item if os.path.isabs(item) else os.path.join(base_dir, item)
        if not os.path.isfile(path):
            raise StudyError(f"{where}: benchmark spec file '{item}' not found (looked at {path})")
        return load_spec_file(path)
    path = os.path.join(BENCH_DIR, item + ".json")
    if not os.path.isfile(path):
        raise StudyError(f"{where}: unknown benchmark '{item}' (known: {', '.join(known_names())}; "
                         "or give a path to a spec file ending in .json, or an inline spec object)")
    return load_spec_file(path)


def resolve_list(value, where, base_dir):
    """'all' (the nine suite layers), or a list of references. Names must be unique."""
    if value == "all":
        value = list(SUITE)
    if isinstance(value, str):
        value = [v for v in value.split(",") if v] if "," in value else [value]
    if not isinstance(value, list) or not value:
        raise StudyError(f"{where}: benchmarks = {json.dumps(value)} is not allowed (\"all\" or a non-empty list "
                         f"of names ({', '.join(known_names())}), spec file paths or inline spec objects)")
    specs = []
    seen = set()
    for i, item in enumerate(value):
        spec = resolve(item, f"{where}[{i}]", base_dir)
        if spec["name"] in seen:
            raise StudyError(f"{where}[{i}]: benchmark name '{spec['name']}' appears twice")
        seen.add(spec["name"])
        specs.append(spec)
    return specs


def compress_args(spec, placement=None):
    """The eie-compress arguments that build the layer of a spec (the architecture comes apart)."""
    args = ["--synthetic", f"{spec['in_len']},{spec['out_len']}", "--name", spec["name"],
            "--weight-density", repr(spec["weight_density"]), "--act-density", repr(spec["act_density"]),
            "--seed", str(spec["seed"]), "--placement", placement or spec["placement"],
            "--activation", spec["activation"]]
    if spec["bias"]:
        args.append("--bias")
    return args


def identity(spec):
    """The fields that determine the layer's data (what a cached image depends on)."""
    return {k: spec[k] for k in ("in_len", "out_len", "weight_density", "act_density", "seed", "placement",
                                 "activation", "bias")}
