"""Tests of the Python module eie_model (docs/python.md): outputs equal the
golden model, statistics equal eie-sim's JSON for the same image and
options, errors raise eie_model.InputError with the C++ message."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

import eie_model as m

BUILD = os.environ["EIE_BUILD_DIR"]

# Fields that depend on the host's wall clock or on how the run was invoked.
UNSTABLE = {"command_line", "wall_seconds", "compute_wall_seconds", "simulate_wall_seconds", "pe_cycles_per_second"}


def stable(stats):
    out = {k: v for k, v in stats.items() if k not in UNSTABLE}
    if "batch" in out:
        out["batch"] = {k: v for k, v in out["batch"].items() if k not in ("host_seconds", "inferences_per_second")}
    return out


def network(seed=1):
    rng = np.random.default_rng(seed)
    w1 = rng.standard_normal((48, 40)).astype(np.float32)
    b1 = rng.standard_normal(48).astype(np.float32)
    w2 = rng.standard_normal((10, 48)).astype(np.float32)
    return [{"weight": w1, "bias": b1, "name": "fc1"}, {"weight": w2, "name": "fc2"}]


class EieModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.image_dir = os.path.join(cls.tmp.name, "img")
        cls.image = m.compress(network(), density=[0.3, 0.5], set={"num_pes": 4}, output=cls.image_dir)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def eie_sim(self, *args):
        stats = os.path.join(self.tmp.name, "stats.json")
        p = subprocess.run([os.path.join(BUILD, "eie-sim"), self.image_dir, "-q", "--stats", stats, *args],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(stats) as f:
            return json.load(f)

    def test_image(self):
        self.assertEqual(self.image.num_pes, 4)
        self.assertEqual([l["name"] for l in self.image.layers], ["fc1", "fc2"])
        self.assertEqual(self.image.input.dtype, np.int32)
        self.assertEqual(self.image.input.shape, (40,))
        again = m.read_image(self.image_dir)
        np.testing.assert_array_equal(again.input, self.image.input)
        self.assertEqual(again.arch, self.image.arch)

    def test_simulate_equals_golden(self):
        r = m.simulate(self.image)
        self.assertTrue(r.bit_exact)
        self.assertIsNone(r.first_mismatch)
        golden = self.image.golden()
        self.assertEqual(len(r.outputs), 2)
        for got, want, stored in zip(r.outputs, golden, self.image.expected):
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(got, stored)
        np.testing.assert_array_equal(r.read_back, golden[-1])
        self.assertEqual(r.cycles, r.stats["totals"]["cycles"])

    def test_stats_equal_eie_sim(self):
        for opts in ([], ["--set", "queue_depth=2", "--set", "clock_mhz=500"], ["--set", "num_pes=3"]):
            with self.subTest(opts=opts):
                sets = [opts[i + 1] for i in range(0, len(opts), 2)]
                r = m.simulate(self.image_dir, set=sets)
                self.assertEqual(stable(r.stats), stable(self.eie_sim(*opts)))
        self.assertTrue(m.simulate(self.image_dir, set={"num_pes": 3}).stats["reencoded"])

    def test_batch_equals_eie_sim(self):
        rng = np.random.default_rng(7)
        x = rng.random((6, 40)).astype(np.float32)
        y = np.array([0, 1, 2, 3, 4, 5], dtype=np.int64)
        xs, ys = os.path.join(self.tmp.name, "x.npy"), os.path.join(self.tmp.name, "y.npy")
        np.save(xs, x)
        np.save(ys, y)
        b = m.run_batch(self.image, x, labels=y, set=["queue_depth=4"])
        self.assertTrue(b.bit_exact)
        self.assertEqual(b.outputs.shape, (6, 10))
        self.assertEqual(b.raw_outputs.dtype, np.int32)
        # every inference's last layer equals the golden model on its quantised input
        quantised = m.run_batch(self.image, x, set=["queue_depth=4"]).raw_outputs
        np.testing.assert_array_equal(b.raw_outputs, quantised)
        out_frac = self.image.layers[-1]["formats"]["out_frac"]
        np.testing.assert_allclose(b.outputs, b.raw_outputs.astype(np.float64) / 2.0 ** out_frac, rtol=1e-6)
        np.testing.assert_array_equal(b.predicted, np.argmax(b.raw_outputs, axis=1))
        self.assertEqual(b.accuracy["count"], 6)
        # the same from files, as eie-sim --inputs takes them
        bf = m.run_batch(self.image_dir, xs, labels=ys, set=["queue_depth=4"])
        want = self.eie_sim("--inputs", xs, "--labels", ys, "--set", "queue_depth=4", "--jobs", "1")
        self.assertEqual(stable(bf.stats), stable(want))
        np.testing.assert_array_equal(bf.raw_outputs, b.raw_outputs)

    def test_batch_raw_fixed_point_equals_golden(self):
        x = np.stack([self.image.input, np.roll(self.image.input, 3)]).astype(np.int32)
        b = m.run_batch(self.image, x)
        for row, got in zip(x, b.raw_outputs):
            np.testing.assert_array_equal(got, self.image.golden(row)[-1])

    def test_errors_carry_the_cpp_message(self):
        cases = [
            (lambda: m.simulate(self.image, set=["num_pes=0"]), "num_pes = 0 is out of range"),
            (lambda: m.simulate(self.image, set={"no_such": 1}), "unknown parameter 'no_such'"),
            (lambda: m.simulate(self.image, set=["weight_bits=3"]), "quantisation parameter"),
            (lambda: m.simulate(self.image, stall=1.5), "stall: 1.5 is out of range (allowed: 0 <= P < 1)"),
            (lambda: m.simulate(self.image, stall=float("nan")), "stall: nan is not a finite number"),
            (lambda: m.run_batch(self.image, np.zeros((2, 40)), jobs=0), "jobs: 0 is out of range (allowed: 1 .. 1024)"),
            (lambda: m.compress(network(), kmeans_iterations=0), "kmeans_iterations: 0 is out of range"),
            (lambda: m.simulate(self.image, set=["num_pes= 4"]), "set num_pes= 4: num_pes = ' 4' is not a number"),
            (lambda: m.read_image(os.path.join(self.tmp.name, "none")), "none"),
            (lambda: m.run_batch(self.image, np.zeros((2, 7))), "7 values per input"),
            (lambda: m.run_batch(self.image, np.full((1, 40), np.nan)), "NaN"),
            (lambda: m.run_batch(self.image, np.zeros((2, 40)), labels=np.array([0, 99])), "out of range"),
            (lambda: m.run_batch(self.image, np.zeros((2, 40)), count=0), "count: 0"),
            (lambda: m.compress(np.full((4, 3), np.inf, dtype=np.float32)), "must be finite"),
            (lambda: m.compress(np.ones(3)), "2-D"),
            (lambda: m.compress(network(), density=2.0), "prune density"),
        ]
        for call, text in cases:
            with self.subTest(text=text):
                with self.assertRaises(m.InputError) as cm:
                    call()
                self.assertIn(text, str(cm.exception))
        self.assertTrue(issubclass(m.InputError, ValueError))

    def test_capacity_error(self):
        # eie-sim exits 3 for this; the module raises CapacityError (an InputError).
        with self.assertRaises(m.CapacityError) as cm:
            m.simulate(self.image, set=["num_pes=1", "spmat_sram_bytes=64"])
        self.assertIn("spmat", str(cm.exception))

    def test_write_refuses_a_non_image(self):
        target = os.path.join(self.tmp.name, "notimage")
        os.makedirs(target)
        open(os.path.join(target, "keep.txt"), "w").close()
        with self.assertRaises(m.InputError):
            self.image.write(target)
        self.assertEqual(os.listdir(target), ["keep.txt"])

    def test_records_are_the_tools_own(self):
        # One field list: the module converts the C++ writers' JSON records, so they equal the files'.
        with open(os.path.join(self.image_dir, "manifest.json")) as f:
            self.assertEqual(self.image.layers, json.load(f)["layers"])
        p = subprocess.run([os.path.join(BUILD, "eie-sim"), "--list-params", "--json"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(m.param_specs(), json.loads(p.stdout)["params"])
        b = m.run_batch(self.image, np.zeros((2, 40)))
        self.assertEqual([r["index"] for r in b.records], [0, 1])
        self.assertEqual([r["cycles"] for r in b.records], list(b.cycles))

    def test_params(self):
        names = [p["name"] for p in m.param_specs()]
        self.assertIn("num_pes", names)
        self.assertEqual(m.default_arch()["num_pes"], 64)


if __name__ == "__main__":
    unittest.main(verbosity=2)
