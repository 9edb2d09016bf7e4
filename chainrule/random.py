"""Random numbers from one seeded global generator, plus ``Generator`` objects.

Under ``chainrule.func.vmap`` every draw follows the randomness flag of each enclosing vmap
(``_levels``): 'error' raises, 'same' draws once for the whole batch, 'different' draws
independent values per batch element. A 'different' draw is made for the whole batch at once
(the batch dims of the 'different' levels in front, outermost first) and returned batched, so
under ``manual_seed`` ``vmap(lambda x: rand(3), randomness='different')(xs)`` equals
``rand(len(xs), 3)``; randperm and multinomial draw per batch element in order instead.
"""
import numpy as np

from . import dtypes as _dt
from ._device import check_device
from ._tensor import Tensor
from .autograd import _transforms as _T

_make = Tensor._make
_STACK = _T.STACK
_RGUARD = _T.RGUARD


class Generator:
    """A random number generator (PCG64) with torch's seeding API.

    >>> import chainrule
    >>> g = chainrule.Generator().manual_seed(0)
    >>> chainrule.rand(2, generator=g).shape
    chainrule.Size([2])
    """

    def __init__(self, device="cpu"):
        check_device(device)
        self.device = device
        self.manual_seed(67280421310721)

    def manual_seed(self, seed):
        seed = int(seed)
        if seed < 0:
            seed &= (1 << 64) - 1
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy % (1 << 63))
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        import json
        state = self._rng.bit_generator.state
        raw = json.dumps({"seed": self._seed, "state": state}).encode()
        return _make(np.frombuffer(raw, np.uint8).copy())

    def set_state(self, new_state):
        import json
        d = json.loads(bytes(new_state._data.astype(np.uint8)).decode())
        self._seed = d["seed"]
        self._rng = np.random.Generator(np.random.PCG64())
        self._rng.bit_generator.state = d["state"]
        return self


default_generator = Generator()


def _gen(generator):
    return (generator or default_generator)._rng


def _levels(op, inputs=(), inplace=None):
    """The vmap levels a draw of ``op`` must vary along (outermost first); () outside vmap.
    See ``_transforms.random_levels``."""
    if not _STACK and not _RGUARD[0]:
        return ()
    return _T.random_levels(op, inputs, inplace)


def _rng(generator, op="a random operation"):
    """The raw NumPy generator, for a draw that cannot be batched: refused under vmap unless
    one shared draw is what every enclosing vmap asks for."""
    if (_STACK or _RGUARD[0]) and _levels(op):
        raise RuntimeError(f"vmap: {op} draws one sample for the whole batch and is not "
                           "batchable yet under randomness='different'; draw it outside vmap "
                           "or use randomness='same'")
    return _gen(generator)


def _draw(op, method, shape, *params, generator=None, inputs=(), inplace=None):
    """One NumPy draw (``Generator.<method>(*params, size)``) for op under the current vmap
    levels: returns (array, levels); the array has a leading dim per level, then ``shape``."""
    lv = _levels(op, inputs, inplace) if (_STACK or _RGUARD[0]) else ()
    if lv:
        shape = tuple(x.size for x in lv) + tuple(shape)
    return getattr(_gen(generator), method)(*params, size=shape), lv


def _const(arr, levels, dtype=None):
    """A constant Tensor over arr (cast to dtype), batched at ``levels`` (from ``_draw``)."""
    if dtype is not None:
        arr = np.asarray(arr, dtype)
    return _make(_T.batched(arr, levels) if levels else arr)


def _check_inplace(t, op):
    """Raise torch's errors for an in-place random fill of t under vmap before drawing."""
    if _STACK or _RGUARD[0]:
        _T.random_levels(op, inplace=t)


def manual_seed(seed):
    """Seed the global generator (returns it).

    >>> import chainrule
    >>> _ = chainrule.manual_seed(0); a = chainrule.rand(1)
    >>> _ = chainrule.manual_seed(0); bool((a == chainrule.rand(1)).all())
    True
    """
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


def _size(size):
    from .creation import _size as s
    return s(size)


def _float(dtype, op):
    d = _dt.to_dtype(dtype) or _dt.get_default_dtype()
    if not d.is_floating_point:
        raise RuntimeError(f"\"{op}\" not implemented for '{d.name.capitalize()}'")
    return d


def _out(arr, requires_grad, levels=()):
    t = _make(_T.batched(arr, levels) if levels else arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    """Uniform samples on [0, 1).

    >>> import chainrule
    >>> chainrule.rand(3).shape
    chainrule.Size([3])
    """
    check_device(device)
    d = _float(dtype, "check_uniform_bounds")
    arr, lv = _draw("rand", "random", _size(size), generator=generator)
    return _out(arr.astype(d.np, copy=False), requires_grad, lv)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    """Standard normal samples.

    >>> import chainrule
    >>> chainrule.randn(2, 2).shape
    chainrule.Size([2, 2])
    """
    check_device(device)
    d = _float(dtype, "normal_kernel_cpu")
    arr, lv = _draw("randn", "standard_normal", _size(size), generator=generator)
    return _out(arr.astype(d.np, copy=False), requires_grad, lv)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Integers uniform on [low, high).

    >>> import chainrule
    >>> chainrule.randint(0, 10, (3,)).dtype
    chainrule.int64
    """
    check_device(device)
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing 1 required positional argument: 'size'")
    if high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    d = _dt.to_dtype(dtype) or _dt.int64
    arr, lv = _draw("randint", "integers", _size((tuple(size),)), low, high, generator=generator)
    return _out(arr.astype(d.np, copy=False), requires_grad, lv)


def rand_like(input, *, dtype=None, generator=None):
    return rand(*input.shape, dtype=dtype or input.dtype, generator=generator)


def randn_like(input, *, dtype=None, generator=None):
    return randn(*input.shape, dtype=dtype or input.dtype, generator=generator)


def randint_like(input, low=0, high=None, *, dtype=None, generator=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype,
                   generator=generator)


def _values(t, levels):
    """A tensor argument's values with a leading dim per level (it is batched at some of them;
    broadcast along the others); numbers stay numbers."""
    if not isinstance(t, Tensor):
        return t
    if not levels:
        return t._data
    return _T.phys_at(t._data, levels)


def _pad(a, nb, nd):
    """a (nb batch dims, then logical dims) with its logical dims left-padded to nd."""
    if not isinstance(a, np.ndarray):
        return a
    k = nd - (a.ndim - nb)
    return a.reshape(a.shape[:nb] + (1,) * k + a.shape[nb:]) if k > 0 else a


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, out=None,
           requires_grad=False):
    """Normal samples; mean and std may be numbers or tensors (broadcast).

    >>> import chainrule
    >>> chainrule.normal(0.0, 1.0, (2,)).shape
    chainrule.Size([2])
    """
    tens = tuple(a for a in (mean, std) if isinstance(a, Tensor))
    lv = _levels("normal", tens) if (_STACK or _RGUARD[0]) else ()
    nb = len(lv)
    m, s = _values(mean, lv), _values(std, lv)
    if np.any(np.asarray(s) < 0):
        raise RuntimeError(f"normal expects std >= 0.0, but found std {np.min(s)}")
    if size is None:
        shape = np.broadcast_shapes(*(a._data.shape if isinstance(a, Tensor) else np.shape(a)
                                      for a in (mean, std)))
    else:
        shape = _size((tuple(size),))
    d = _dt.to_dtype(dtype) or (mean.dtype if isinstance(mean, Tensor) else std.dtype
                                if isinstance(std, Tensor) else _dt.get_default_dtype())
    full = tuple(x.size for x in lv) + tuple(shape)
    z = _gen(generator).standard_normal(full)
    arr = _pad(m, nb, len(shape)) + _pad(s, nb, len(shape)) * z
    return _out(np.asarray(arr).astype(d.np), requires_grad, lv)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1 (under vmap(randomness='different'), one permutation
    per batch element, drawn in order).

    >>> import chainrule
    >>> sorted(chainrule.randperm(4).tolist())
    [0, 1, 2, 3]
    """
    check_device(device)
    d = _dt.to_dtype(dtype) or _dt.int64
    lv = _levels("randperm")
    rng = _gen(generator)
    if not lv:
        return _out(rng.permutation(n).astype(d.np), requires_grad)
    bs = tuple(x.size for x in lv)
    arr = np.array([rng.permutation(n) for _ in range(int(np.prod(bs)))], np.int64)
    return _out(arr.reshape(bs + (n,)).astype(d.np), requires_grad, lv)


def bernoulli(input, p=None, *, generator=None):
    """Samples 1 with probability ``input`` (or p), else 0.

    >>> import chainrule
    >>> chainrule.bernoulli(chainrule.ones(3))
    tensor([1., 1., 1.])
    """
    lv = _levels("bernoulli", (input,)) if (_STACK or _RGUARD[0]) else ()
    shape = tuple(x.size for x in lv) + tuple(input._data.shape)
    probs = _values(input, lv) if p is None else np.full(shape, p)
    if np.any((probs < 0) | (probs > 1)):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    out = (_gen(generator).random(shape) < probs).astype(input._data.dtype)
    return _const(out, lv)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Sample category indices from rows of non-negative weights (under
    vmap(randomness='different'), row by row over the batch in order).

    >>> import chainrule
    >>> chainrule.multinomial(chainrule.tensor([0.0, 1.0]), 2, replacement=True)
    tensor([1, 1])
    """
    if input._data.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    lv = _levels("multinomial", (input,)) if (_STACK or _RGUARD[0]) else ()
    w = np.asarray(_values(input, lv), np.float64)
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = w.reshape(-1, w.shape[-1])
    if np.any(rows.sum(-1) <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > w.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    rng = _gen(generator)
    res = []
    for r in rows:
        p = r / r.sum()
        if replacement:
            res.append(rng.choice(len(p), num_samples, replace=True, p=p))
        else:
            # Gumbel top-k: sampling without replacement in proportion to weights
            with np.errstate(divide="ignore"):
                keys = np.log(p) - np.log(-np.log(rng.random(len(p))))
            res.append(np.argsort(-keys, kind="stable")[:num_samples])
    out = np.stack(res).astype(np.int64).reshape(w.shape[:-1] + (num_samples,))
    return _const(out, lv)
