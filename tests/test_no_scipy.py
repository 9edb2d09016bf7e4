"""NumPy is chainrule's only runtime dependency: every module imports, and the ops that once
called SciPy (special functions, matrix_exp, lu, inv_ex) compute, with SciPy unimportable."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_SCRIPT = r"""
import importlib, json, pkgutil, sys
sys.modules["scipy"] = None          # any `import scipy...` now raises ImportError
import chainrule
import chainrule.viz  # noqa: F401
bad = []
for mod in pkgutil.walk_packages(chainrule.__path__, "chainrule."):
    if mod.name.startswith("chainrule.benchmarks"):
        continue                     # benchmark modules import torch / jax lazily, not scipy
    try:
        importlib.import_module(mod.name)
    except ImportError as e:
        bad.append(f"{mod.name}: {e}")
t = chainrule.tensor([-3.0, -0.5, 0.25, 2.0], dtype=chainrule.float64, requires_grad=True)
x = chainrule.tensor([0.1, 0.5, 1.5, 3.0], dtype=chainrule.float64, requires_grad=True)
p = chainrule.tensor([-0.9, -0.2, 0.3, 0.95], dtype=chainrule.float64)
out = {
    "erf": chainrule.erf(t).tolist(), "erfc": chainrule.erfc(t).tolist(),
    "erfinv": chainrule.erfinv(p).tolist(), "lgamma": chainrule.lgamma(t).tolist(),
    "digamma": chainrule.digamma(x).tolist(), "polygamma2": chainrule.polygamma(2, x).tolist(),
    "sigmoid": chainrule.sigmoid(t).tolist(), "xlogy": chainrule.xlogy(t, x).tolist(),
}
chainrule.lgamma(x).sum().backward()
out["dlgamma"] = x.grad.tolist()
a = chainrule.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=chainrule.float64)
out["expm"] = chainrule.linalg.matrix_exp(a).tolist()
m = chainrule.tensor([[1.0, 2.0, 0.5], [4.0, 1.0, 3.0], [2.0, 0.0, 1.0]],
                     dtype=chainrule.float64)
P, L, U = chainrule.linalg.lu(m)
out["lu"] = (P @ L @ U).tolist()
out["inv_ex_info"] = chainrule.linalg.inv_ex(chainrule.zeros(2, 2)).info.item()
print(json.dumps({"bad": bad, "out": out}))
"""


@pytest.fixture(scope="module")
def blocked():
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True,
                       env=env, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_every_module_imports_without_scipy(blocked):
    assert blocked["bad"] == []


def test_package_metadata_needs_only_numpy():
    tomllib = pytest.importorskip("tomllib")     # Python 3.11+
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        deps = tomllib.load(f)["project"]["dependencies"]
    assert [d.split(">")[0].split("=")[0].strip() for d in deps] == ["numpy"]


def test_values_without_scipy(blocked):
    sp = pytest.importorskip("scipy.special")
    sla = pytest.importorskip("scipy.linalg")
    o = blocked["out"]
    t = np.array([-3.0, -0.5, 0.25, 2.0])
    x = np.array([0.1, 0.5, 1.5, 3.0])
    p = np.array([-0.9, -0.2, 0.3, 0.95])
    close = dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(o["erf"], sp.erf(t), **close)
    np.testing.assert_allclose(o["erfc"], sp.erfc(t), **close)
    np.testing.assert_allclose(o["erfinv"], sp.erfinv(p), **close)
    np.testing.assert_allclose(o["lgamma"], sp.gammaln(t), **close)
    np.testing.assert_allclose(o["digamma"], sp.digamma(x), **close)
    np.testing.assert_allclose(o["polygamma2"], sp.polygamma(2, x), **close)
    np.testing.assert_allclose(o["sigmoid"], sp.expit(t), **close)
    np.testing.assert_allclose(o["xlogy"], sp.xlogy(t, x), **close)
    np.testing.assert_allclose(o["dlgamma"], sp.digamma(x), **close)
    a = np.array([[0.0, -1.0], [1.0, 0.0]])
    np.testing.assert_allclose(o["expm"], sla.expm(a), **close)
    m = np.array([[1.0, 2.0, 0.5], [4.0, 1.0, 3.0], [2.0, 0.0, 1.0]])
    np.testing.assert_allclose(o["lu"], m, **close)
    assert o["inv_ex_info"] == 1
