"""Random numbers from one seeded global generator, plus ``Generator`` objects."""
import numpy as np

from . import dtypes as _dt
from ._device import check_device
from ._tensor import Tensor

_make = Tensor._make


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


def _rng(generator):
    return (generator or default_generator)._rng


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


def _out(arr, requires_grad):
    t = _make(arr)
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
    return _out(_rng(generator).random(_size(size)).astype(d.np), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    """Standard normal samples.

    >>> import chainrule
    >>> chainrule.randn(2, 2).shape
    chainrule.Size([2, 2])
    """
    check_device(device)
    d = _float(dtype, "normal_kernel_cpu")
    return _out(_rng(generator).standard_normal(_size(size)).astype(d.np), requires_grad)


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
    return _out(_rng(generator).integers(low, high, _size((tuple(size),))).astype(d.np),
                requires_grad)


def rand_like(input, *, dtype=None, generator=None):
    return rand(*input.shape, dtype=dtype or input.dtype, generator=generator)


def randn_like(input, *, dtype=None, generator=None):
    return randn(*input.shape, dtype=dtype or input.dtype, generator=generator)


def randint_like(input, low=0, high=None, *, dtype=None, generator=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype,
                   generator=generator)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, out=None,
           requires_grad=False):
    """Normal samples; mean and std may be numbers or tensors (broadcast).

    >>> import chainrule
    >>> chainrule.normal(0.0, 1.0, (2,)).shape
    chainrule.Size([2])
    """
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if np.any(np.asarray(s) < 0):
        raise RuntimeError(f"normal expects std >= 0.0, but found std {np.min(s)}")
    if size is None:
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    else:
        shape = _size((tuple(size),))
    d = _dt.to_dtype(dtype) or (mean.dtype if isinstance(mean, Tensor) else std.dtype
                                if isinstance(std, Tensor) else _dt.get_default_dtype())
    arr = m + s * _rng(generator).standard_normal(shape)
    return _out(np.asarray(arr).astype(d.np), requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1.

    >>> import chainrule
    >>> sorted(chainrule.randperm(4).tolist())
    [0, 1, 2, 3]
    """
    check_device(device)
    d = _dt.to_dtype(dtype) or _dt.int64
    return _out(_rng(generator).permutation(n).astype(d.np), requires_grad)


def bernoulli(input, p=None, *, generator=None):
    """Samples 1 with probability ``input`` (or p), else 0.

    >>> import chainrule
    >>> chainrule.bernoulli(chainrule.ones(3))
    tensor([1., 1., 1.])
    """
    probs = input._data if p is None else np.full(input.shape, p)
    if np.any((probs < 0) | (probs > 1)):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    out = (_rng(generator).random(input.shape) < probs).astype(input._data.dtype)
    return _make(out)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Sample category indices from rows of non-negative weights.

    >>> import chainrule
    >>> chainrule.multinomial(chainrule.tensor([0.0, 1.0]), 2, replacement=True)
    tensor([1, 1])
    """
    w = input._data.astype(np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = w.reshape(-1, w.shape[-1])
    if np.any(rows.sum(-1) <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > w.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    rng = _rng(generator)
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
    out = np.stack(res).astype(np.int64)
    return _make(out if w.ndim == 2 else out[0])
