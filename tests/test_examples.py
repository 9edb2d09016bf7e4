"""Each script in examples/ runs and prints what it promises."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_example(name, *args, timeout=300):
    env = dict(os.environ, PYTHONPATH=ROOT, MPLBACKEND="Agg")
    res = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name), *args],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_custom_function():
    out = run_example("custom_function.py")
    assert "gradcheck    : True" in out and "gradgradcheck: True" in out
    # softplus'(0) = sigmoid(0) = 1/2, and no overflow at x = 800
    assert "5.0000e-01" in out and "8.0000e+02" in out and "nan" not in out and "inf" not in out


def test_hessian_and_newton():
    out = run_example("hessian.py")
    assert "matches the formula: True" in out
    last = out.strip().splitlines()[-1]
    assert "x = 1.000000, y = 1.000000" in last      # Newton reaches Rosenbrock's minimum


def test_digits_cnn_one_epoch(tmp_path):
    pytest.importorskip("sklearn")
    out = run_example("digits_cnn.py", "--epochs", "1", "--out", str(tmp_path))
    acc = float(out.strip().splitlines()[-1].split()[-1].rstrip("%"))
    assert acc > 50                  # one epoch already learns most digits
    assert (tmp_path / "digits_cnn.safetensors").exists()
