"""Benchmark specifications: traces/benchmarks/<name>.json, or inline in a sweep file.

A spec with "kind": "network" names a user network instead (an .npz, its input set, labels and
calibration set; see validate_network).

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


def _suite():
    """The paper's order (EIE Table III, docs/reference.md), from traces/benchmarks/suite.txt (which
    the C++ presets are generated from too); "all" means these."""
    try:
        with open(os.path.join(BENCH_DIR, "suite.txt"), encoding="utf-8") as f:
            return [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
    except OSError as e:
        raise StudyError(f"{BENCH_DIR}/suite.txt: cannot read the benchmark suite: {e.strerror}") from None


SUITE = _suite()
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


# A user network instead of a synthetic layer: its layers from an .npz (compressed by eie-compress
# --npz with each point's quantisation and layout parameters) and a set of real inputs run through
# the model (eie-sim --inputs), with labels for the accuracy. docs/benchmarks.md describes it.
_NETWORK_FIELDS = {
    "name": _FIELDS["name"], "title": _FIELDS["title"], "network": _FIELDS["network"],
    "description": _FIELDS["description"],
    "npz": "a path to the network's .npz (relative to the file that names it, or to the repository)",
    "layers": "the eie-compress --layers list, e.g. w1:b1,w2:b2",
    "density": "the eie-compress --density: D or D1,D2,... (optional: keep every weight)",
    "calibration": "a .npy of calibration inputs for the activation formats (optional)",
    "activation": "the eie-compress --activation: relu | identity, or one per layer (optional)",
    "inputs": "the inputs: a .npy (N, in_len) or an IDX images file",
    "labels": "the labels: an integer .npy or an IDX labels file (optional)",
    "first": "an integer >= 0: the first input (default 0)",
    "count": "an integer >= 1: at most this many inputs (default: all)",
    "every": "an integer >= 1: take every n-th input (default 1)",
    "arch": _FIELDS["arch"],
}
_NETWORK_PATHS = ("npz", "calibration", "inputs", "labels")


def is_network(spec):
    return isinstance(spec, dict) and spec.get("kind") == "network"


def _find_path(value, key, where, base_dir):
    if not isinstance(value, str) or not value:
        raise StudyError(f"{where}: {key} = {json.dumps(value)} is not allowed ({_NETWORK_FIELDS[key]})")
    for base in ([] if os.path.isabs(value) else [base_dir, ROOT]) or [""]:
        path = os.path.normpath(os.path.join(base, value))
        if os.path.isfile(path):
            return path
    if os.path.isabs(value) and os.path.isfile(value):
        return value
    hint = ""
    if key == "npz":
        hint = " (scripts/fashion-net OUT makes a Fashion-MNIST network: see docs/benchmarks.md)"
    raise StudyError(f"{where}: {key} file '{value}' not found (looked next to the file naming it and in "
                     f"the repository){hint}")


def validate_network(raw, where, base_dir):
    """A user-network spec: checked, paths made absolute, defaults filled in."""
    for key in raw:
        if key not in _NETWORK_FIELDS:
            raise StudyError(f"{where}: unknown user-network field '{key}' (known: {', '.join(_NETWORK_FIELDS)})")
    for key in ("name", "npz", "layers", "inputs"):
        if key not in raw:
            raise StudyError(f"{where}: user-network field '{key}' is missing ({_NETWORK_FIELDS[key]})")
    if not isinstance(raw["name"], str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", raw["name"]):
        raise StudyError(f"{where}: name = {json.dumps(raw['name'])} is not allowed ({_FIELDS['name']})")
    spec = {"kind": "network", "name": raw["name"], "title": raw.get("title", raw["name"]),
            "network": raw.get("network", ""), "description": raw.get("description", ""),
            "layers": raw["layers"], "density": raw.get("density"), "activation": raw.get("activation"),
            "first": raw.get("first", 0), "count": raw.get("count"), "every": raw.get("every", 1),
            "arch": raw.get("arch", {}),
            # the synthetic-layer fields the results table has columns for: not applicable
            "in_len": None, "out_len": None, "weight_density": None, "act_density": None, "seed": None,
            "bias": None, "placement": "network"}
    for key in ("title", "network", "description", "layers"):
        if not isinstance(spec[key], str) or (key == "layers" and not spec[key]):
            raise StudyError(f"{where}: {key} = {json.dumps(spec[key])} is not allowed ({_NETWORK_FIELDS[key]})")
    for key in ("density", "activation"):
        if spec[key] is not None and (not isinstance(spec[key], str) or not spec[key]):
            raise StudyError(f"{where}: {key} = {json.dumps(spec[key])} is not allowed ({_NETWORK_FIELDS[key]})")
    for key, low in (("first", 0), ("count", 1), ("every", 1)):
        v = spec[key]
        if v is not None and (not _is_int(v) or not low <= v < 1 << 63):
            raise StudyError(f"{where}: {key} = {json.dumps(v)} is not allowed ({_NETWORK_FIELDS[key]})")
    for key in _NETWORK_PATHS:
        spec[key] = _find_path(raw[key], key, where, base_dir) if raw.get(key) is not None else None
    if not isinstance(spec["arch"], dict):
        raise StudyError(f"{where}: arch = {json.dumps(spec['arch'])} is not allowed ({_FIELDS['arch']})")
    spec["arch"] = _checked_arch(spec["arch"], where)
    return spec


def sim_args(spec):
    """The eie-sim arguments a point of this spec adds: a user network runs its input set (one
    worker: the sweep runs points in parallel itself)."""
    if not is_network(spec):
        return []
    args = ["--inputs", spec["inputs"], "--jobs", "1", "--first", str(spec["first"]), "--every", str(spec["every"])]
    if spec["labels"]:
        args += ["--labels", spec["labels"]]
    if spec["count"] is not None:
        args += ["--count", str(spec["count"])]
    return args


def run_identity(spec):
    """What a point runs besides the layer (a user network's input set, labels and selection),
    None for a synthetic layer: part of the point id, so a changed input set is a new point."""
    if not is_network(spec):
        return None
    return {"inputs": _file_identity(spec["inputs"]), "labels": _file_identity(spec["labels"]),
            "first": spec["first"], "count": spec["count"], "every": spec["every"]}


def _checked_arch(arch, where):
    """A spec's architecture overrides, each a known parameter with an allowed value."""
    table = params.by_name()
    checked = {}
    for key, value in arch.items():
        if key not in table:
            raise StudyError(f"{where}: arch: unknown parameter '{key}' (known: {', '.join(params.names())})")
        checked[key] = table[key].check(value, f"{where}: arch")
    return checked


def _file_identity(path):
    if path is None:
        return None
    st = os.stat(path)
    return [path, st.st_size, st.st_mtime_ns]


def known_names():
    try:
        return sorted(f[:-5] for f in os.listdir(BENCH_DIR) if f.endswith(".json"))
    except OSError:
        return []


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


def validate_spec(raw, where, base_dir=ROOT):
    """Checks a spec object and returns it complete (defaults filled in), with canonical types."""
    if isinstance(raw, dict) and raw.get("kind") == "network":
        return validate_network({k: v for k, v in raw.items() if k != "kind"}, where, base_dir)
    if isinstance(raw, dict) and "kind" in raw and raw["kind"] != "synthetic":
        raise StudyError(f"{where}: kind = {json.dumps(raw['kind'])} is not allowed (synthetic, the default, "
                         "or network)")
    raw = {k: v for k, v in raw.items() if k != "kind"} if isinstance(raw, dict) else raw
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
    spec["arch"] = _checked_arch(spec["arch"], where)
    spec["weight_density"] = float(spec["weight_density"])
    spec["act_density"] = float(spec["act_density"])
    return spec


def load_spec_file(path, where=None):
    raw = load_json(path, "benchmark spec")
    spec = validate_spec(raw, where or path, os.path.dirname(os.path.abspath(path)))
    spec["source"] = os.path.relpath(os.path.abspath(path), ROOT) if os.path.abspath(path).startswith(ROOT) else path
    return spec


def resolve(item, where, base_dir):
    """A benchmark reference from a sweep file or a command line: a suite name, a path to a spec
    file (ends in .json, relative to base_dir), or an inline spec object."""
    if isinstance(item, dict):
        spec = validate_spec(item, where, base_dir)
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
    if is_network(spec):
        args = ["--npz", spec["npz"], "--layers", spec["layers"]]
        for key in ("density", "activation", "calibration"):
            if spec[key] is not None:
                args += [f"--{key}", spec[key]]
        return args
    args = ["--synthetic", f"{spec['in_len']},{spec['out_len']}", "--name", spec["name"],
            "--weight-density", repr(spec["weight_density"]), "--act-density", repr(spec["act_density"]),
            "--seed", str(spec["seed"]), "--placement", placement or spec["placement"],
            "--activation", spec["activation"]]
    if spec["bias"]:
        args.append("--bias")
    return args


def identity(spec):
    """The fields that determine the layer's data (what a cached image depends on)."""
    if is_network(spec):
        return {"kind": "network", "npz": _file_identity(spec["npz"]), "layers": spec["layers"],
                "density": spec["density"], "activation": spec["activation"],
                "calibration": _file_identity(spec["calibration"])}
    return {k: spec[k] for k in ("in_len", "out_len", "weight_density", "act_density", "seed", "placement",
                                 "activation", "bias")}
