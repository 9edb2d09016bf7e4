"""The op table's vocabulary. An OpInfo names a public op, a function ``fn(m, *args)`` written
once for both libraries (``m`` is chainrule or torch), and its samples. A sample is a tuple of
args, each one of:
  - ``A(shape, lo, hi, T=False, grad=True)``: a float array drawn uniformly from [lo, hi];
    ``T=True`` builds it transposed (a non-contiguous view), ``grad=False`` a constant input;
  - ``I(values)`` / ``I(shape, high)``: an int64 index tensor (fixed values or random in
    [0, high));
  - ``B(shape)``: a random bool tensor;
  - anything else: passed through unchanged (numbers, tuples, strings).
"""
import numpy as np


class A:
    def __init__(self, shape, lo=-2.0, hi=2.0, T=False, grad=True, values=None):
        self.shape, self.lo, self.hi, self.T, self.grad = tuple(shape), lo, hi, T, grad
        self.values = values

    def make(self, rng):
        if self.values is not None:
            return np.array(self.values, dtype=np.float64)
        shape = self.shape[::-1] if self.T else self.shape
        a = rng.uniform(self.lo, self.hi, shape)
        return a


class I:
    def __init__(self, values_or_shape, high=None):
        self.v, self.high = values_or_shape, high

    def make(self, rng):
        if self.high is None:
            return np.array(self.v, dtype=np.int64)
        return rng.integers(0, self.high, self.v).astype(np.int64)


class B:
    def __init__(self, shape, p=0.5, values=None):
        self.shape, self.p, self.values = tuple(shape), p, values

    def make(self, rng):
        if self.values is not None:
            return np.array(self.values, dtype=bool)
        return rng.random(self.shape) < self.p


class OpInfo:
    """One public op in the gradient table.

    kinds: which of the four case kinds the samples cover ('0d', 'odd', 'broadcast', 'T');
    an op whose math rules a kind out lists it in ``skip_kinds`` with the reason.
    bad: callables ``bad(m)`` that must raise the same exception class in both libraries.
    """

    def __init__(self, name, fn, samples, *, bad=(), torch_fn=None, grad=True, gradgrad=True,
                 parity=True, atol=1e-5, rtol=1e-3, skip_kinds=None, nondeterministic=False,
                 f32_tol=(1e-5, 1e-4), eps=1e-6, bad_see=None):
        self.name, self.fn, self.samples, self.bad = name, fn, list(samples), list(bad)
        self.torch_fn = torch_fn or fn
        self.grad, self.gradgrad, self.parity = grad, gradgrad, parity
        self.atol, self.rtol = atol, rtol
        self.skip_kinds = skip_kinds or {}
        self.nondeterministic = nondeterministic
        self.f32_tol = f32_tol
        self.eps = eps
        self.bad_see = bad_see     # a variant of another entry whose bad cases cover it

    def __repr__(self):
        return f"OpInfo({self.name})"


def build(lib, sample, seed, dtype_name="float64"):
    """Materialise a sample's args for ``lib`` (chainrule or torch). Returns (leaves, to_args):
    the tensors to differentiate and a function that maps leaves to the op's args (applying
    the transposes, so each case also runs through a non-contiguous view)."""
    rng = np.random.default_rng(seed)
    dt = getattr(lib, dtype_name)
    built = []     # (kind, value): kind 'leaf', 'leafT' or 'const'
    for spec in sample:
        if isinstance(spec, A):
            t = lib.tensor(spec.make(rng).astype(dtype_name), dtype=dt)
            if spec.grad:
                t.requires_grad_(True)
                built.append(("leafT" if spec.T else "leaf", t))
            else:
                built.append(("const", _transpose(t) if spec.T else t))
        elif isinstance(spec, (I, B)):
            built.append(("const", lib.tensor(spec.make(rng))))
        else:
            built.append(("const", spec))
    leaves = [v for k, v in built if k != "const"]

    def to_args(*ls):
        it = iter(ls)
        out = []
        for k, v in built:
            if k == "const":
                out.append(v)
            else:
                x = next(it)
                out.append(_transpose(x) if k == "leafT" else x)
        return out
    return leaves, to_args


def _transpose(t):
    return t.t() if t.dim() == 2 else t.permute(*range(t.dim() - 1, -1, -1))


class Bad:
    """An invalid call: ``fn(m, *args)`` on the built sample must raise ``exc`` (and the same
    class in torch), leaving every input tensor unchanged."""

    def __init__(self, fn, *sample, exc=None):
        self.fn, self.sample, self.exc = fn, sample, exc


def kinds_of(sample):
    """The case kinds a sample covers."""
    arrs = [s for s in sample if isinstance(s, A)]
    ks = set()
    if any(len(a.shape) == 0 for a in arrs):
        ks.add("0d")
    if any(len({d for d in a.shape if d > 1}) >= 2 for a in arrs):
        ks.add("odd")
    shapes = [a.shape for a in arrs]
    if len(shapes) >= 2 and len(set(shapes)) > 1:
        ks.add("broadcast")
    if any(a.T for a in arrs):
        ks.add("T")
    return ks
