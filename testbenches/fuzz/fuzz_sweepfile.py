#!/usr/bin/python3
"""Property-based fuzzing of sweep files (python3-hypothesis).

Sweep files from a strategy that mixes valid fields with hostile values (huge, tiny, NaN, deep,
wrong types, odd names) are parsed by the real parser (eie_studies.sweepfile.parse_sweep); each
must give a Sweep or a StudyError, never another exception and never a hang. Raw bytes go through
load_sweep too (invalid UTF-8, broken JSON).

  testbenches/fuzz/fuzz_sweepfile.py --examples 300     # as the CLI test runs it
  scripts/fuzz 60                                       # with the libFuzzer harnesses
"""
import argparse
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from eie_studies import sweepfile  # noqa: E402
from eie_studies.common import StudyError  # noqa: E402

NUMBERS = st.one_of(st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([0, 1, 2, 5e-324, 1e18, 1e308, 2**32, 2**64 - 1, -1, 0.5]))
SCALARS = st.one_of(NUMBERS, st.booleans(), st.none(), st.text(max_size=12))
PARAMS = st.sampled_from(["queue_depth", "num_pes", "clock_mhz", "act_sram_entries", "grow_memories",
                          "nonexistent", "weight_bits"])
JSONISH = st.recursive(SCALARS, lambda c: st.one_of(st.lists(c, max_size=4),
                                                    st.dictionaries(st.text(max_size=6), c, max_size=4)),
                       max_leaves=12)
RANGE = st.one_of(st.lists(SCALARS, max_size=5), JSONISH,
                  st.fixed_dictionaries({"from": NUMBERS, "to": NUMBERS},
                                        optional={"scale": st.sampled_from(["pow2", "linear", "log"]),
                                                  "step": NUMBERS}))
SWEEP = st.fixed_dictionaries(
    {"benchmarks": st.one_of(st.just(["alex8"]), st.just("all"), JSONISH)},
    optional={"name": st.one_of(st.text(max_size=10), st.sampled_from(["../../..", "..", "a/b", "ok-name"]),
                                SCALARS),
              "params": st.one_of(st.dictionaries(PARAMS, RANGE, max_size=3), JSONISH),
              "points": st.one_of(st.lists(st.dictionaries(PARAMS, SCALARS, max_size=2), max_size=3), JSONISH),
              "base": st.one_of(st.dictionaries(PARAMS, SCALARS, max_size=2), JSONISH),
              "placement": st.one_of(st.sampled_from(["uniform", "skewed"]), SCALARS),
              "energy_table": st.one_of(st.just("/dev/null"), st.just("/etc"), SCALARS),
              "extra": SCALARS})


def check_object(obj):
    try:
        sweepfile.parse_sweep(obj, "fuzz.json", base_dir=ROOT)
    except StudyError:
        pass


def check_bytes(data, directory):
    path = os.path.join(directory, "fuzz.json")
    with open(path, "wb") as f:
        f.write(data)
    try:
        sweepfile.load_sweep(path)
    except StudyError:
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=300, help="examples per property (default: %(default)s)")
    args = ap.parse_args()
    opts = settings(max_examples=args.examples, deadline=10000, database=None,
                    suppress_health_check=list(HealthCheck))

    with tempfile.TemporaryDirectory() as d:
        @opts
        @given(SWEEP)
        def objects(obj):
            check_object(obj)

        @opts
        @given(st.one_of(st.binary(max_size=200),
                         st.builds(lambda a, b: a + b, st.sampled_from([b'{"benchmarks": ["alex8"], "name": "',
                                                                        b'{"params": {"queue_depth": ', b"[" * 5000]),
                                   st.binary(max_size=50))))
        def raw(data):
            check_bytes(data, d)

        objects()
        raw()
    print(f"fuzz_sweepfile: {2 * args.examples} examples, every one a sweep or a StudyError")
    return 0


if __name__ == "__main__":
    sys.exit(main())
