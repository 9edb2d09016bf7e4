"""The primitives: each a Function (Op) with forward and backward side by side."""
from . import _xp, elementwise, index, inplace, linalg, reduce, shape  # noqa: F401
