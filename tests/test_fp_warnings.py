"""chainrule's ops are silent about floating-point specials, as torch is: log(0), x / 0,
sqrt(-1), overflow give inf / nan without NumPy's RuntimeWarnings (forward and backward); a
user's own NumPy calls still warn."""
import warnings

import numpy as np
import pytest

import chainrule

CASES = {
    "log0": lambda t: chainrule.log(t),
    "div0": lambda t: t / 0,
    "sqrt_neg": lambda t: chainrule.sqrt(t),
    "exp_overflow": lambda t: chainrule.exp(t * 1e4),
    "pow_neg": lambda t: t ** -1.5,
    "inf_minus_inf": lambda t: chainrule.exp(t * 1e4) - chainrule.exp(t * 1e4),
    "rsqrt0": lambda t: chainrule.rsqrt(t),
    "reciprocal0": lambda t: chainrule.reciprocal(t),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_specials_are_silent_forward_and_backward(name, dtype):
    x = chainrule.tensor([0.0, -1.0, 100.0], dtype=getattr(chainrule, dtype),
                         requires_grad=True)
    with warnings.catch_warnings(record=True) as log:
        warnings.filterwarnings("always", category=RuntimeWarning, module=__name__)
        y = CASES[name](x)
        y.sum().backward()
    assert not [w for w in log if issubclass(w.category, RuntimeWarning)], \
        [(str(w.message), w.filename, w.lineno) for w in log]
    assert not np.isfinite(y.detach().numpy()).all()     # the specials are really there


def test_users_own_numpy_still_warns():
    with warnings.catch_warnings(record=True) as log:
        warnings.filterwarnings("always", category=RuntimeWarning, module=__name__)
        chainrule.log(chainrule.zeros(1))
        np.log(np.zeros(1))
    assert [str(w.message) for w in log] == ["divide by zero encountered in log"], \
        [(str(w.message), w.filename, w.lineno) for w in log]


def test_the_import_installs_the_filter(tmp_path):
    """In a plain script (no pytest capture) the import alone silences chainrule's ops."""
    import os
    import subprocess
    import sys
    script = ("import chainrule, numpy as np\n"
              "x = chainrule.tensor([0.0, -1.0], requires_grad=True)\n"
              "(chainrule.log(x) + chainrule.sqrt(x) + x / 0).sum().backward()\n"
              "np.log(np.zeros(1))\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root, PYTHONWARNINGS="")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if "RuntimeWarning" in ln]
    assert len(lines) == 1 and "<string>:4" in lines[0], r.stderr
