#!/usr/bin/python3
"""Seed corpora for the libFuzzer harnesses, made by the project's own tools.

  make_seeds.py BUILD_DIR OUT_DIR [--regression]

Writes OUT_DIR/<harness>/ for npy, npz, image, arch and energy: images from eie-compress
(synthetic layers, 1 PE, several shapes and options), their .npy vectors, .npz files from numpy,
configurations from the image manifests, and the project's energy table. With --regression, the
image inputs of the findings of docs/input-safety.md are written instead (stored in
testbenches/fuzz/regression/image).
"""
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGE_FILES = ["manifest.json", "pe_0000/spmat.hex", "pe_0000/ptr_even.hex", "pe_0000/ptr_odd.hex",
               "pe_0000/codebook.hex", "input.npy"]


def image_input(d, manifest=None):
    """An image directory as the image harness's input: its files separated by NUL bytes."""
    parts = []
    for name in IMAGE_FILES:
        if name == "manifest.json" and manifest is not None:
            parts.append(json.dumps(manifest).encode())
            continue
        p = os.path.join(d, name)
        parts.append(open(p, "rb").read() if os.path.exists(p) else b"")
    return b"\0".join(parts)


def make_image(build, d, *args):
    subprocess.run([os.path.join(build, "eie-compress"), "--pes", "1", "-o", d, "--quiet", *args], check=True)
    m = json.load(open(os.path.join(d, "manifest.json")))
    m["vectors"]["input"] = "input.npy"
    return m


def main():
    build, out = sys.argv[1], sys.argv[2]
    regression = "--regression" in sys.argv[3:]
    with tempfile.TemporaryDirectory() as t:
        d = os.path.join(t, "img")
        if regression:
            m = make_image(build, d, "--synthetic", "12,8", "--weight-density", "0.5", "--bias")
            os.makedirs(os.path.join(out, "image"), exist_ok=True)
            cases = {
                "f2-entry-base-wraps": lambda m: m["layers"][0].update(entry_base=2**64 - 16),
                "f2-ptr-base-wraps": lambda m: m["layers"][0].update(ptr_base=2**64 - 3),
                "f4-shift-141": lambda m: m["layers"][0]["formats"].update(in_frac=13, w_frac=64, out_frac=-64,
                                                                          shift=141),
                "f5-huge-counts": lambda m: (m["arch"].update(grow_memories=True),
                                             m["pes"][0].update(entries=2**40, pointers=2**40)),
                "f7-act-sram-2pow32": lambda m: m["arch"].update(act_sram_entries=2**32),
                "f8-rf-vs-batches": lambda m: m["arch"].update(act_rf_entries=1),
                "f11-missing-arch-key": lambda m: m["arch"].pop("queue_depth"),
                "f11-codebook-float-1e300": lambda m: m["layers"][0]["codebook_float"].__setitem__(1, 1e300),
            }
            for name, change in cases.items():
                mm = json.loads(json.dumps(m))
                change(mm)
                open(os.path.join(out, "image", name + ".bin"), "wb").write(image_input(d, mm))
            return 0
        for sub in ("npy", "npz", "image", "arch", "energy"):
            os.makedirs(os.path.join(out, sub), exist_ok=True)
        shapes = [("8,6", []), ("12,8", ["--bias"]), ("20,5", ["--weight-density", "0.8"]),
                  ("5,17", ["--act-density", "0.3"])]
        for k, (shape, extra) in enumerate(shapes):
            shutil.rmtree(d, ignore_errors=True)
            m = make_image(build, d, "--synthetic", shape, *extra)
            open(os.path.join(out, "image", f"img{k}.bin"), "wb").write(image_input(d, m))
            for f in os.listdir(d):
                if f.endswith(".npy"):
                    shutil.copy(os.path.join(d, f), os.path.join(out, "npy", f"img{k}-{f}"))
            text = "queue_depth=4\n" + json.dumps(m["arch"])
            open(os.path.join(out, "arch", f"img{k}.txt"), "w").write(text)
        r = np.random.default_rng(1)
        for k, kw in enumerate([{}, {"compressed": True}]):
            buf = io.BytesIO()
            arrays = {"w1": r.standard_normal((4, 3)).astype(np.float32), "b1": np.zeros(4, np.float32)}
            (np.savez_compressed if kw else np.savez)(buf, **arrays)
            open(os.path.join(out, "npz", f"net{k}.npz"), "wb").write(buf.getvalue())
        for dt in ("<f2", ">f8", "<i4", "|u1"):
            buf = io.BytesIO()
            np.save(buf, np.asfortranarray(np.arange(6).reshape(2, 3).astype(dt)))
            open(os.path.join(out, "npy", f"np-{dt[1:]}.npy"), "wb").write(buf.getvalue())
        table = os.path.join(ROOT, "traces", "energy", "default-45nm.json")
        if os.path.exists(table):
            shutil.copy(table, os.path.join(out, "energy", "default-45nm.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
