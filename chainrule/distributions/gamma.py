"""Gamma, Beta and Dirichlet: samplers built on a reparameterised standard gamma draw."""
import numbers

import numpy as np

import chainrule as _c
from chainrule import _special as _sp
from chainrule.autograd.function import Op
from . import constraints
from .distribution import Distribution, broadcast_all

__all__ = ["Beta", "Dirichlet", "Gamma"]


def _gamma_dx_dalpha(a, x):
    """d x / d alpha of a standard gamma draw x at fixed CDF value (implicit
    reparameterisation): -(dP(alpha, x)/d alpha) / pdf(x)."""
    from chainrule._special import _igam64, _igam_prefix
    upper = x >= a
    # NOTE: central differences of P (or Q in the right tail, where P ~ 1 would cancel)
    # with one Richardson step: O(h^4) truncation, ~1e-11 relative overall.
    h = 1e-3 * np.minimum(a, 1.0)

    def d(h):
        lo = np.where(upper, _igam64(a - h, x, True), _igam64(a - h, x, False))
        hi = np.where(upper, _igam64(a + h, x, True), _igam64(a + h, x, False))
        return (hi - lo) / (2 * h)
    dF = (4 * d(h / 2) - d(h)) / 3
    pdf = _igam_prefix(a, x) / x
    return np.where(upper, dF, -dF) / pdf


class _StandardGamma(Op):
    """A gamma(alpha, 1) draw ``x`` (drawn by the caller) as a function of alpha."""

    @staticmethod
    def forward(ctx, alpha, x):
        if ctx.needs_input_grad[0]:
            a, xx = np.broadcast_arrays(alpha.astype(np.float64), x.astype(np.float64))
            ctx.dxda = _gamma_dx_dalpha(a, xx).astype(x.dtype)
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g * ctx.dxda, None


def _standard_gamma(alpha, shape):
    """Gamma(alpha, 1) draws of ``shape`` (alpha broadcast to it), reparameterised in alpha."""
    from chainrule.random import _rng
    a = alpha.detach().expand(tuple(shape)).numpy().astype(np.float64)
    x = _rng(None, "Gamma.rsample").standard_gamma(a)
    dt = alpha.detach().numpy().dtype
    x = np.maximum(x, np.finfo(dt).tiny).astype(dt)
    return _StandardGamma.apply(alpha.expand(tuple(shape)), x)


class Gamma(Distribution):
    """Gamma distribution with shape ``concentration`` and inverse scale ``rate``;
    ``rsample`` is reparameterised in both (implicit gradient for the concentration).

    >>> import chainrule
    >>> from chainrule.distributions import Gamma
    >>> Gamma(2.0, 3.0).log_prob(chainrule.tensor(1.0))
    tensor(-0.8028)
    """
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _param_event_dims = {"concentration": 0, "rate": 0}

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        if isinstance(concentration, numbers.Number) and isinstance(rate, numbers.Number):
            batch = ()
        else:
            batch = self.concentration.shape
        super().__init__(batch, validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate ** 2

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        x = _standard_gamma(self.concentration, shape) / self.rate.expand(tuple(shape))
        return x.clamp(min=_c.finfo(x.dtype).tiny)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c, r = self.concentration, self.rate
        return (_c.xlogy(c, r) + _c.xlogy(c - 1, value) - r * value - _c.lgamma(c))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return _c.special.gammainc(self.concentration, self.rate * value)

    def entropy(self):
        c = self.concentration
        return c - _c.log(self.rate) + _c.lgamma(c) + (1.0 - c) * _c.digamma(c)


class Dirichlet(Distribution):
    """Dirichlet distribution over the simplex with ``concentration`` (last dim: K).

    >>> import chainrule
    >>> from chainrule.distributions import Dirichlet
    >>> Dirichlet(chainrule.tensor([1.0, 1.0, 1.0])).log_prob(chainrule.tensor([0.2, 0.3, 0.5]))
    tensor(0.6931)
    """
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True
    _param_event_dims = {"concentration": 1}

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:],
                         validate_args=validate_args)

    def rsample(self, sample_shape=()):
        g = _standard_gamma(self.concentration, self._extended_shape(sample_shape))
        x = g / g.sum(-1, keepdim=True)
        eps = _c.finfo(x.dtype).tiny
        return x.clamp(min=eps, max=1 - _c.finfo(x.dtype).eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return (_c.xlogy(c - 1.0, value).sum(-1) + _c.lgamma(c.sum(-1))
                - _c.lgamma(c).sum(-1))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        c = self.concentration
        cm1 = (c - 1).clamp(min=0.0)
        mode = cm1 / cm1.sum(-1, keepdim=True)
        onehot = _c.nn.functional.one_hot(c.argmax(-1), c.shape[-1]).to(c.dtype)
        return _c.where((c < 1).all(-1, keepdim=True), onehot, mode)

    @property
    def variance(self):
        c = self.concentration
        c0 = c.sum(-1, keepdim=True)
        return c * (c0 - c) / (c0 ** 2 * (c0 + 1))

    def entropy(self):
        c = self.concentration
        k = c.shape[-1]
        a0 = c.sum(-1)
        return (_c.lgamma(c).sum(-1) - _c.lgamma(a0) - (k - a0) * _c.digamma(a0)
                - ((c - 1.0) * _c.digamma(c)).sum(-1))


class Beta(Distribution):
    """Beta distribution on [0, 1] with ``concentration1`` (alpha) and ``concentration0``
    (beta).

    >>> import chainrule
    >>> from chainrule.distributions import Beta
    >>> Beta(2.0, 2.0).log_prob(chainrule.tensor(0.5))
    tensor(0.4055)
    """
    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True
    _param_event_dims = {"concentration1": 0, "concentration0": 0}

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1,
                                                                 concentration0)
        if (isinstance(concentration1, numbers.Number)
                and isinstance(concentration0, numbers.Number)):
            batch = ()
        else:
            batch = self.concentration1.shape
        super().__init__(batch, validate_args=validate_args)

    def __repr__(self):
        return "Beta()"

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        a, b = self.concentration1, self.concentration0
        c = _c.stack(_c.broadcast_tensors(a, b), -1)
        return Dirichlet(c, validate_args=False).mode[..., 0]

    @property
    def variance(self):
        a, b = self.concentration1, self.concentration0
        t = a + b
        return a * b / (t ** 2 * (t + 1))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        x = _standard_gamma(self.concentration1, shape)
        y = _standard_gamma(self.concentration0, shape)
        out = x / (x + y)
        return out.clamp(min=_c.finfo(out.dtype).tiny, max=1 - _c.finfo(out.dtype).eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        return (_c.xlogy(a - 1, value) + _c.xlogy(b - 1, 1 - value)
                + _c.lgamma(a + b) - _c.lgamma(a) - _c.lgamma(b))

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        t = a + b
        return (_c.lgamma(a) + _c.lgamma(b) - _c.lgamma(t) - (a - 1) * _c.digamma(a)
                - (b - 1) * _c.digamma(b) + (t - 2) * _c.digamma(t))

