import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

try:
    import torch  # noqa: F401  (test-only dependency)
    HAVE_TORCH = True
except Exception:  # pragma: no cover
    HAVE_TORCH = False

needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="torch is not installed (parity tests "
                                 "need `pip install torch==2.13.0`)")


@pytest.fixture(autouse=True)
def _reset_state():
    import chainrule
    # pytest runs each test (and the collection that imported chainrule) inside its own
    # warning capture, which drops the filter chainrule's import installs: install it again
    chainrule._quiet_fp_warnings()
    chainrule.set_default_dtype(chainrule.float32)
    yield
    chainrule.set_default_dtype(chainrule.float32)


def to_np(t):
    if t is None:
        return None
    if hasattr(t, "detach"):
        t = t.detach()
    return np.asarray(t.numpy() if hasattr(t, "numpy") else t)
