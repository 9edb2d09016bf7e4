"""The ``Distribution`` base class and shared helpers."""
import numbers
from functools import cached_property

import chainrule as _c
from . import constraints

__all__ = ["Distribution"]

_DEFAULT_VALIDATE = [True]


def _fmt(t):
    if isinstance(t, _c.Tensor) and t.dim() == 0:
        return f"{t.item()}"
    return f"{t}"


def _size(s):
    if isinstance(s, int):
        s = (s,)
    return _c.Size(tuple(int(x) for x in s))


def broadcast_all(*values):
    """Broadcast numbers and Tensors to Tensors of one shape (numbers take the dtype of the
    first Tensor, or the default dtype).

    >>> import chainrule
    >>> from chainrule.distributions.distribution import broadcast_all
    >>> [t.shape for t in broadcast_all(1.0, chainrule.zeros(2))]
    [chainrule.Size([2]), chainrule.Size([2])]
    """
    tensors = [v for v in values if isinstance(v, _c.Tensor)]
    for v in values:
        if not isinstance(v, (_c.Tensor, numbers.Number)):
            raise ValueError("Input arguments must all be instances of numbers.Number, "
                             "chainrule.Tensor or objects implementing __torch_function__.")
    dtype = tensors[0].dtype if tensors else _c.get_default_dtype()
    vals = [v if isinstance(v, _c.Tensor) else _c.tensor(float(v), dtype=dtype) for v in values]
    return _c.broadcast_tensors(*vals)


def sum_rightmost(value, dim):
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:value.dim() - dim]) + (-1,)).sum(-1)


def clamp_probs(probs):
    eps = _c.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary=False):
    return _c.sigmoid(logits) if is_binary else _c.softmax(logits, dim=-1)


def probs_to_logits(probs, is_binary=False):
    p = clamp_probs(probs)
    return _c.log(p) - _c.log1p(-p) if is_binary else _c.log(p)


class Distribution:
    """Base class of probability distributions (``torch.distributions.Distribution``).

    Subclasses set ``arg_constraints``, ``support`` and implement ``log_prob``, ``sample``
    (or ``rsample``), ``entropy``, ``mean``, ``variance``...

    >>> import chainrule
    >>> from chainrule.distributions import Normal
    >>> d = Normal(chainrule.zeros(3), 1.0)
    >>> d.batch_shape, d.event_shape, d.sample((2,)).shape
    (chainrule.Size([3]), chainrule.Size([]), chainrule.Size([2, 3]))
    """
    has_rsample = False
    has_enumerate_support = False
    _validate_args = True
    arg_constraints = {}
    support = None
    _param_event_dims = {}

    @staticmethod
    def set_default_validate_args(value):
        """Turn argument validation on or off for new distributions (default on).

        >>> from chainrule.distributions import Distribution
        >>> Distribution.set_default_validate_args(True)
        """
        if value not in (True, False):
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = _size(batch_shape)
        self._event_shape = _size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            try:
                arg_constraints = self.arg_constraints
            except TypeError:
                arg_constraints = {}
            for param, constraint in arg_constraints.items():
                if isinstance(constraint, constraints._Dependent):
                    continue
                if param not in self.__dict__ and isinstance(getattr(type(self), param, None),
                                                             cached_property):
                    continue
                value = getattr(self, param)
                valid = constraint.check(value)
                if not bool(valid.all()):
                    raise ValueError(
                        f"Expected parameter {param} ({type(value).__name__} of shape "
                        f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                        f"constraint {constraint!r}, but found invalid values:\n{_fmt(value)}")

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def expand(self, batch_shape, _instance=None):
        """A view of this distribution with its parameters expanded to ``batch_shape``.

        >>> from chainrule.distributions import Normal
        >>> Normal(0.0, 1.0).expand((2, 3)).batch_shape
        chainrule.Size([2, 3])
        """
        batch_shape = _size(batch_shape)
        new = _instance if _instance is not None else type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        for name, ed in self._param_event_dims.items():
            if name in self.__dict__:
                t = self.__dict__[name]
                new.__dict__[name] = t.expand(tuple(batch_shape) + tuple(t.shape[t.dim() - ed:]))
        self._expand_extra(new, batch_shape)
        new._batch_shape = batch_shape
        return new

    def _expand_extra(self, new, batch_shape):
        pass

    def _extended_shape(self, sample_shape=()):
        return _c.Size(tuple(_size(sample_shape)) + tuple(self._batch_shape)
                       + tuple(self._event_shape))

    def sample(self, sample_shape=()):
        """Draw a sample of shape ``sample_shape + batch_shape + event_shape`` (no grad).

        >>> import chainrule
        >>> from chainrule.distributions import Bernoulli
        >>> Bernoulli(chainrule.tensor([0.3, 0.6])).sample((4,)).shape
        chainrule.Size([4, 2])
        """
        with _c.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} does not implement rsample")

    def sample_n(self, n):
        return self.sample((n,))

    def log_prob(self, value):
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError

    def icdf(self, value):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    def perplexity(self):
        return _c.exp(self.entropy())

    def enumerate_support(self, expand=True):
        raise NotImplementedError

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def _validate_sample(self, value):
        if not isinstance(value, _c.Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        es = tuple(self._event_shape)
        start = value.dim() - len(es)
        if tuple(value.shape[start:]) != es or start < 0:
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{value.shape} vs {self._event_shape}.")
        actual = tuple(value.shape)
        expected = tuple(self._batch_shape) + es
        for i, j in zip(reversed(actual), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{_c.Size(actual)} vs {_c.Size(expected)}.")
        support = self.support
        if not bool(support.check(value).all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape "
                f"{tuple(value.shape)}) to be within the support ({support!r}) of the "
                f"distribution {self!r}, but found invalid values:\n{_fmt(value)}")

    def __repr__(self):
        names = [k for k in self.arg_constraints if k in self.__dict__]
        vals = [self.__dict__[p] for p in names]
        args = ", ".join(f"{p}: {_fmt(v) if v.numel() == 1 else v.size()}"
                         for p, v in zip(names, vals))
        return f"{type(self).__name__}({args})"
