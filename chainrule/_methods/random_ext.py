"""Tensor methods for the in-place random fills used by nn.init: uniform_, normal_, ... (issue 5).
Each method draws from ``chainrule.random`` and writes through ``ops.inplace.copy_`` (so the
version counter, leaf checks and history follow torch's in-place rules)."""
import math

import numpy as np


def _cr():
    import chainrule
    return chainrule


def _fill(t, values):
    """Write a float64 sample tensor into t (cast to t's dtype) as one in-place op."""
    from ..ops.inplace import copy_
    return copy_(t, values)


def _u(t, generator):
    return _cr().rand(*t.shape, dtype=_cr().float64, generator=generator)


def _vmap_check(t, op):
    """Under vmap, torch's checks for an in-place random fill (randomness='error' raises;
    'different' needs t batched at that level) before anything is drawn."""
    from ..random import _check_inplace
    _check_inplace(t, op)


_SCALAR_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                 "uint8": "Byte", "bool": "Bool"}


def _float_only(t, op):
    # torch reports a kernel missing for a dtype as NotImplementedError
    if not t.is_floating_point():
        name = _SCALAR_NAMES.get(t.dtype.name, t.dtype.name)
        raise NotImplementedError(f"\"{op}\" not implemented for '{name}'")


class RandomMethods:
    """In-place random fills and sampling methods of Tensor.

    >>> import chainrule
    >>> chainrule.empty(2).fill_(0.5).bernoulli_(1.0)
    tensor([1., 1.])
    """
    __slots__ = ()

    def uniform_(self, from_=0.0, to=1.0, *, generator=None, **kwargs):
        """Fill with samples from U[from, to) in place.

        >>> import chainrule
        >>> x = chainrule.empty(1000).uniform_(-2.0, 3.0)
        >>> bool(x.min() >= -2.0) and bool(x.max() < 3.0)
        True
        """
        from_ = kwargs.pop("from", from_)
        if from_ > to:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                               f"from={from_} > to={to}")
        _float_only(self, "check_uniform_bounds")
        _vmap_check(self, "uniform_")
        return _fill(self, _u(self, generator) * (to - from_) + from_)

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill with samples from N(mean, std^2) in place.

        >>> import chainrule
        >>> chainrule.zeros(2, 3).normal_(0.0, 0.5).shape
        chainrule.Size([2, 3])
        """
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        _float_only(self, "normal_kernel_cpu")
        _vmap_check(self, "normal_")
        z = _cr().randn(*self.shape, dtype=_cr().float64, generator=generator)
        return _fill(self, z * std + mean)

    def bernoulli_(self, p=0.5, *, generator=None):
        """Fill with 1 with probability p (a number or a broadcastable tensor), else 0.

        >>> import chainrule
        >>> chainrule.empty(4).bernoulli_(1.0)
        tensor([1., 1., 1., 1.])
        """
        from .. import random as R
        from ..autograd import _transforms as T
        tensor_p = isinstance(p, _cr().Tensor)
        if tensor_p:
            pl, pr = T.levels_of(p._data)       # (its vmap levels, its values)
            if np.any((pr < 0) | (pr > 1)):
                raise RuntimeError("bernoulli_ expects p to be in [0, 1]")
        elif not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        _vmap_check(self, "bernoulli_")
        u, lv = R._draw("bernoulli_", "random", tuple(self.shape), generator=generator)
        if tensor_p:
            both = T.union_levels(lv, pl)
            u = T.phys_at(T.batched(u, lv), both) if both != lv else u
            p = R._pad(T.phys_at(p._data, both), len(both), self.ndim)
            lv = both
        return _fill(self, R._const((u < p).astype(np.float64), lv))

    def exponential_(self, lambd=1.0, *, generator=None):
        """Fill with samples of the exponential distribution with rate lambd.

        >>> import chainrule
        >>> bool((chainrule.empty(5).exponential_(2.0) >= 0).all())
        True
        """
        if not lambd > 0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
        if not self.is_floating_point():
            raise RuntimeError("Exponential distribution is a continuous probability "
                               "distribution. dtype must be a floating point but you "
                               f"specified {_SCALAR_NAMES.get(self.dtype.name)}")
        _vmap_check(self, "exponential_")
        # 1 - U lies in (0, 1], so the log is finite
        return _fill(self, -(1.0 - _u(self, generator)).log() / lambd)

    def geometric_(self, p, *, generator=None):
        """Fill with the number of Bernoulli(p) trials up to the first success (>= 1).

        >>> import chainrule
        >>> bool((chainrule.empty(5).geometric_(0.5) >= 1).all())
        True
        """
        if not 0 < p < 1:
            raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
        _vmap_check(self, "geometric_")
        k = ((1.0 - _u(self, generator)).log() / math.log1p(-p)).ceil()
        return _fill(self, _cr().clamp(k, min=1.0))

    def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
        """Fill with samples of the Cauchy distribution.

        >>> import chainrule
        >>> chainrule.empty(3).cauchy_().shape
        chainrule.Size([3])
        """
        if not self.is_floating_point():
            raise RuntimeError("Cauchy distribution is a continuous probability distribution. "
                               f"dtype must be a floating point but you specified "
                               f"{self.dtype.name}")
        _vmap_check(self, "cauchy_")
        a = (_u(self, generator) - 0.5) * math.pi
        return _fill(self, a.sin() / a.cos() * sigma + median)

    def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
        """Fill with exp(N(mean, std^2)) samples.

        >>> import chainrule
        >>> bool((chainrule.empty(5).log_normal_() > 0).all())
        True
        """
        if not std > 0:
            raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
        _float_only(self, "log_normal_cpu")
        _vmap_check(self, "log_normal_")
        z = _cr().randn(*self.shape, dtype=_cr().float64, generator=generator)
        return _fill(self, (z * std + mean).exp())

    def random_(self, from_=0, to=None, *, generator=None, **kwargs):
        """Fill with integers uniform on [from, to); ``random_(to)`` means [0, to); with no
        bounds, [0, 2**mantissa] for floats and [0, max] for integers.

        >>> import chainrule
        >>> x = chainrule.zeros(100, dtype=chainrule.int64).random_(3, 7)
        >>> bool((x >= 3).all()) and bool((x < 7).all())
        True
        """
        cr = _cr()
        from_ = kwargs.pop("from", from_)
        if to is None and from_ != 0:
            from_, to = 0, from_
        if to is None:
            npd = self.dtype.np
            if npd.kind == "f":
                to = 2 ** (np.finfo(npd).nmant + 1) + 1
            elif npd.kind == "b":
                to = 2
            else:
                to = int(np.iinfo(npd).max)
        if from_ >= to:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                               f"from={from_} >= to={to}")
        _vmap_check(self, "random_")
        vals = cr.randint(from_, to, tuple(self.shape), generator=generator)
        return _fill(self, vals)

    def bernoulli(self, p=None, *, generator=None):
        """Sample 1 with probability given by this tensor's values (or by p).

        >>> import chainrule
        >>> chainrule.ones(3).bernoulli()
        tensor([1., 1., 1.])
        """
        return _cr().bernoulli(self, p, generator=generator)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        """Sample category indices in proportion to the weights in each row.

        >>> import chainrule
        >>> chainrule.tensor([0.0, 1.0]).multinomial(1)
        tensor([1])
        """
        return _cr().multinomial(self, num_samples, replacement, generator=generator)
