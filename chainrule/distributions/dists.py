"""Concrete distributions."""
import math
import numbers
from functools import cached_property

import chainrule as _c
import chainrule.nn.functional as _F
from . import constraints
from .distribution import (Distribution, _fmt, _size, broadcast_all, clamp_probs, logits_to_probs,
                           probs_to_logits, sum_rightmost)

__all__ = ["Bernoulli", "Categorical", "Exponential", "Independent", "Laplace",
           "MultivariateNormal", "Normal", "OneHotCategorical", "Uniform"]


def _rand(shape, like, generator=None):
    return _c.rand(*shape, dtype=like.dtype, generator=generator)


def _randn(shape, like, generator=None):
    return _c.randn(*shape, dtype=like.dtype, generator=generator)


def _nan_like(t, shape):
    return _c.full(tuple(shape), math.nan, dtype=t.dtype)


class _LocScale(Distribution):
    """What Normal and Laplace share: a real location and a positive scale, broadcast
    together; the mean and the mode are the location."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _param_event_dims = {"loc": 0, "scale": 0}

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        if isinstance(loc, numbers.Number) and isinstance(scale, numbers.Number):
            batch_shape = ()
        else:
            batch_shape = self.loc.shape
        super().__init__(batch_shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc


class Normal(_LocScale):
    """Normal distribution with mean ``loc`` and standard deviation ``scale``.

    >>> import chainrule
    >>> from chainrule.distributions import Normal
    >>> d = Normal(chainrule.tensor([0.0, 1.0]), 2.0)
    >>> d.log_prob(chainrule.tensor([0.0, 1.0]))
    tensor([-1.6121, -1.6121])
    """
    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale ** 2

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return self.loc + _randn(shape, self.loc) * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale ** 2
        return (-((value - self.loc) ** 2) / (2 * var) - _c.log(self.scale)
                - math.log(math.sqrt(2 * math.pi)))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + _c.erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def icdf(self, value):
        return self.loc + self.scale * _c.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + _c.log(self.scale)


class Bernoulli(Distribution):
    """Bernoulli distribution given by ``probs`` or ``logits`` (exactly one).

    >>> import chainrule
    >>> from chainrule.distributions import Bernoulli
    >>> Bernoulli(probs=chainrule.tensor([0.25])).log_prob(chainrule.tensor([1.0]))
    tensor([-1.3863])
    """
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _param_event_dims = {"probs": 0, "logits": 0}

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, numbers.Number)
            (self.probs,) = broadcast_all(probs)
            param = self.probs
        else:
            is_scalar = isinstance(logits, numbers.Number)
            (self.logits,) = broadcast_all(logits)
            param = self.logits
        super().__init__(() if is_scalar else param.shape, validate_args=validate_args)

    @property
    def _param(self):
        return self.__dict__["probs"] if "probs" in self.__dict__ else self.__dict__["logits"]

    @cached_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @cached_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        p = self.probs
        return _c.where(p == 0.5, _c.full((), math.nan, dtype=p.dtype), (p > 0.5).to(p.dtype))

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with _c.no_grad():
            return _c.bernoulli(self.probs.expand(tuple(shape)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = _c.broadcast_tensors(self.logits, value)
        return -_F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        return _F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand=True):
        v = _c.arange(2, dtype=self._param.dtype).reshape((-1,) + (1,) * len(self._batch_shape))
        if expand:
            v = v.expand((-1,) + tuple(self._batch_shape))
        return v


class Categorical(Distribution):
    """Categorical distribution over ``{0, ..., K-1}`` given by ``probs`` or ``logits``
    (last dim: the K categories; probs are normalised, logits made log-probabilities).

    >>> import chainrule
    >>> from chainrule.distributions import Categorical
    >>> d = Categorical(probs=chainrule.tensor([1.0, 3.0]))
    >>> d.probs, d.log_prob(chainrule.tensor(1)).exp()
    (tensor([0.2500, 0.7500]), tensor(0.7500))
    """
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True
    _param_event_dims = {"probs": 1, "logits": 1}

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
            param = self.probs
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
            param = self.logits
        self._num_events = param.shape[-1]
        batch = param.shape[:-1] if param.dim() > 1 else ()
        super().__init__(batch, validate_args=validate_args)

    @property
    def _param(self):
        return self.__dict__["probs"] if "probs" in self.__dict__ else self.__dict__["logits"]

    @cached_property
    def logits(self):
        return probs_to_logits(self.probs)

    @cached_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return self._param.shape

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self):
        return _nan_like(self.probs, self._extended_shape())

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return _nan_like(self.probs, self._extended_shape())

    def sample(self, sample_shape=()):
        sample_shape = _size(sample_shape)
        with _c.no_grad():
            p2 = self.probs.reshape(-1, self._num_events)
            n = max(sample_shape.numel(), 1)
            s = _c.multinomial(p2, n, True).T
            return s.reshape(tuple(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = _c.broadcast_tensors(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=_c.finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        v = _c.arange(self._num_events, dtype=_c.int64)
        v = v.reshape((-1,) + (1,) * len(self._batch_shape))
        if expand:
            v = v.expand((-1,) + tuple(self._batch_shape))
        return v


class OneHotCategorical(Distribution):
    """Categorical distribution whose samples are one-hot vectors of size K.

    >>> import chainrule
    >>> from chainrule.distributions import OneHotCategorical
    >>> d = OneHotCategorical(chainrule.tensor([0.0, 0.0, 1.0]))
    >>> d.sample()
    tensor([0., 0., 1.])
    """
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def _expand_extra(self, new, batch_shape):
        new._categorical = self._categorical.expand(batch_shape)

    @property
    def _param(self):
        return self._categorical._param

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def mean(self):
        return self._categorical.probs

    @property
    def mode(self):
        p = self._categorical.probs
        return _F.one_hot(p.argmax(-1), p.shape[-1]).to(p.dtype)

    @property
    def variance(self):
        p = self._categorical.probs
        return p * (1 - p)

    def sample(self, sample_shape=()):
        idx = self._categorical.sample(sample_shape)
        p = self._categorical.probs
        return _F.one_hot(idx, p.shape[-1]).to(p.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.max(-1)[1])

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        n = self._event_shape[0]
        v = _c.eye(n, dtype=self._param.dtype)
        v = v.reshape((n,) + (1,) * len(self._batch_shape) + (n,))
        if expand:
            v = v.expand((n,) + tuple(self._batch_shape) + (n,))
        return v


class Uniform(Distribution):
    """Uniform distribution on the half-open interval ``[low, high)``.

    >>> import chainrule
    >>> from chainrule.distributions import Uniform
    >>> Uniform(0.0, 4.0).log_prob(chainrule.tensor(1.0))
    tensor(-1.3863)
    """
    has_rsample = True
    _param_event_dims = {"low": 0, "high": 0}

    @property
    def arg_constraints(self):
        return {"low": constraints.less_than(self.high),
                "high": constraints.greater_than(self.low)}

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        if isinstance(low, numbers.Number) and isinstance(high, numbers.Number):
            batch_shape = ()
        else:
            batch_shape = self.low.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def __repr__(self):
        args = ", ".join(
            f"{p}: {_fmt(t) if t.numel() == 1 else t.size()}"
            for p, t in (("low", self.low), ("high", self.high)))
        return f"Uniform({args})"

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(self.low, self.high)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return self.high * math.nan

    @property
    def stddev(self):
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self):
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape=()):
        u = _rand(self._extended_shape(sample_shape), self.low)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        lb = (self.low <= value).to(self.low.dtype)
        ub = (self.high > value).to(self.low.dtype)
        return _c.log(lb * ub) - _c.log(self.high - self.low)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return _c.log(self.high - self.low)


class Independent(Distribution):
    """Reinterpret the rightmost ``reinterpreted_batch_ndims`` batch dims of a distribution as
    event dims (log_prob sums over them).

    >>> import chainrule
    >>> from chainrule.distributions import Independent, Normal
    >>> d = Independent(Normal(chainrule.zeros(2, 3), 1.0), 1)
    >>> d.batch_shape, d.event_shape, d.log_prob(chainrule.zeros(2, 3)).shape
    (chainrule.Size([2]), chainrule.Size([3]), chainrule.Size([2]))
    """
    arg_constraints = {}

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        n = reinterpreted_batch_ndims
        if n > len(base_distribution.batch_shape):
            raise ValueError(
                "Expected reinterpreted_batch_ndims <= len(base_distribution.batch_shape), "
                f"actual {n} vs {len(base_distribution.batch_shape)}")
        shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        event_dim = n + len(base_distribution.event_shape)
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = n
        super().__init__(shape[:len(shape) - event_dim], shape[len(shape) - event_dim:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = _size(batch_shape)
        new = type(self).__new__(type(self)) if _instance is None else _instance
        new.__dict__.update(self.__dict__)
        new.base_dist = self.base_dist.expand(
            tuple(batch_shape) + tuple(self._event_shape[:self.reinterpreted_batch_ndims]))
        new._batch_shape = batch_shape
        return new

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    @property
    def has_enumerate_support(self):
        if self.reinterpreted_batch_ndims > 0:
            return False
        return self.base_dist.has_enumerate_support

    @constraints.dependent_property
    def support(self):
        s = self.base_dist.support
        if self.reinterpreted_batch_ndims:
            s = constraints.independent(s, self.reinterpreted_batch_ndims)
        return s

    @property
    def mean(self):
        return self.base_dist.mean

    @property
    def mode(self):
        return self.base_dist.mode

    @property
    def variance(self):
        return self.base_dist.variance

    def sample(self, sample_shape=()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value):
        return sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self):
        return sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)

    def enumerate_support(self, expand=True):
        if self.reinterpreted_batch_ndims > 0:
            raise NotImplementedError("Enumeration over cartesian product is not implemented")
        return self.base_dist.enumerate_support(expand=expand)

    def __repr__(self):
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"


class Exponential(Distribution):
    """Exponential distribution with rate ``rate``.

    >>> import chainrule
    >>> from chainrule.distributions import Exponential
    >>> Exponential(2.0).log_prob(chainrule.tensor(1.0))
    tensor(-1.3069)
    """
    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _param_event_dims = {"rate": 0}

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        batch = () if isinstance(rate, numbers.Number) else self.rate.shape
        super().__init__(batch, validate_args=validate_args)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return _c.zeros_like(self.rate)

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate ** -2

    def rsample(self, sample_shape=()):
        u = _rand(self._extended_shape(sample_shape), self.rate)
        # NOTE: u in [0, 1) so 1 - u in (0, 1]: the log is finite.
        return -_c.log1p(-u) / self.rate

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return _c.log(self.rate) - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - _c.exp(-self.rate * value)

    def icdf(self, value):
        return -_c.log1p(-value) / self.rate

    def entropy(self):
        return 1.0 - _c.log(self.rate)


class Laplace(_LocScale):
    """Laplace distribution with location ``loc`` and scale ``scale``.

    >>> import chainrule
    >>> from chainrule.distributions import Laplace
    >>> Laplace(0.0, 1.0).log_prob(chainrule.tensor(1.0))
    tensor(-1.6931)
    """
    @property
    def variance(self):
        return 2 * self.scale ** 2

    @property
    def stddev(self):
        return math.sqrt(2) * self.scale

    def rsample(self, sample_shape=()):
        eps = _c.finfo(self.loc.dtype).eps
        u = _rand(self._extended_shape(sample_shape), self.loc)
        u = u * (2 - eps) + (eps - 1)
        return self.loc - self.scale * u.sign() * _c.log1p(-u.abs())

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -_c.log(2 * self.scale) - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        d = value - self.loc
        return 0.5 - 0.5 * d.sign() * _c.expm1(-d.abs() / self.scale)

    def icdf(self, value):
        t = value - 0.5
        return self.loc - self.scale * t.sign() * _c.log1p(-2 * t.abs())

    def entropy(self):
        return 1 + _c.log(2 * self.scale)


def _batch_mv(mat, vec):
    return (mat @ vec.unsqueeze(-1)).squeeze(-1)


def _batch_mahalanobis(L, x):
    """Squared Mahalanobis norm of x w.r.t. L @ L.T, broadcast over batch dims."""
    shape = _c.broadcast_shapes(tuple(L.shape[:-2]), tuple(x.shape[:-1]))
    n = L.shape[-1]
    Lb = L.expand(tuple(shape) + (n, n))
    xb = x.expand(tuple(shape) + (n,))
    sol = _c.linalg.solve_triangular(Lb, xb.unsqueeze(-1), upper=False).squeeze(-1)
    return (sol ** 2).sum(-1)


def _precision_to_scale_tril(P):
    Lf = _c.linalg.cholesky(_c.flip(P, (-2, -1)))
    L_inv = _c.flip(Lf, (-2, -1)).transpose(-2, -1)
    eye = _c.eye(P.shape[-1], dtype=P.dtype)
    return _c.linalg.solve_triangular(L_inv, eye, upper=False)


class MultivariateNormal(Distribution):
    """Multivariate normal with mean ``loc`` and one of ``covariance_matrix``,
    ``precision_matrix`` or ``scale_tril`` (lower Cholesky factor of the covariance).

    >>> import chainrule
    >>> from chainrule.distributions import MultivariateNormal
    >>> d = MultivariateNormal(chainrule.zeros(2), chainrule.eye(2))
    >>> d.log_prob(chainrule.zeros(2))
    tensor(-1.8379)
    """
    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True
    _param_event_dims = {"loc": 1, "covariance_matrix": 2, "precision_matrix": 2,
                         "scale_tril": 2}

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if ((covariance_matrix is not None) + (scale_tril is not None)
                + (precision_matrix is not None)) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        if scale_tril is not None:
            mat, name = scale_tril, "scale_tril"
        elif covariance_matrix is not None:
            mat, name = covariance_matrix, "covariance_matrix"
        else:
            mat, name = precision_matrix, "precision_matrix"
        if mat.dim() < 2:
            raise ValueError(f"{name} matrix must be at least two-dimensional, "
                             "with optional leading batch dimensions")
        batch = _c.broadcast_shapes(tuple(mat.shape[:-2]), tuple(loc.shape[:-1]))
        n = loc.shape[-1]
        setattr(self, name, mat.expand(tuple(batch) + (-1, -1)))
        self.loc = loc.expand(tuple(batch) + (-1,))
        super().__init__(batch, (n,), validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = _c.linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    @cached_property
    def scale_tril(self):
        n = self._event_shape[0]
        return self._unbroadcasted_scale_tril.expand(tuple(self._batch_shape) + (n, n))

    @cached_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        n = self._event_shape[0]
        return (L @ L.transpose(-2, -1)).expand(tuple(self._batch_shape) + (n, n))

    @cached_property
    def precision_matrix(self):
        n = self._event_shape[0]
        return _c.cholesky_inverse(self._unbroadcasted_scale_tril).expand(
            tuple(self._batch_shape) + (n, n))

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return (self._unbroadcasted_scale_tril ** 2).sum(-1).expand(
            tuple(self._batch_shape) + tuple(self._event_shape))

    def rsample(self, sample_shape=()):
        eps = _randn(self._extended_shape(sample_shape), self.loc)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        M = _batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        n = self._event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + M) - half_log_det

    def entropy(self):
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        n = self._event_shape[0]
        h = 0.5 * n * (1.0 + math.log(2 * math.pi)) + half_log_det
        return h.expand(tuple(self._batch_shape)) if len(self._batch_shape) else h
