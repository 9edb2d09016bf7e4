"""KL divergences between distributions, dispatched on the pair of types.

>>> import chainrule
>>> from chainrule.distributions import Exponential, kl_divergence
>>> kl_divergence(Exponential(1.0), Exponential(2.0))
tensor(0.3069)
"""
import math

import chainrule as _c
import chainrule.nn.functional as _F
from .dists import (Bernoulli, Categorical, Exponential, Independent, Laplace,
                    MultivariateNormal, Normal, OneHotCategorical, Uniform,
                    _batch_mahalanobis)
from .distribution import sum_rightmost
from .gamma import Beta, Dirichlet, Gamma

__all__ = ["kl_divergence", "register_kl"]

_KL_REGISTRY = {}
_KL_MEMO = {}


def register_kl(type_p, type_q):
    """Decorator registering ``fn(p, q)`` as the KL divergence of (type_p, type_q).

    >>> from chainrule.distributions import Normal, register_kl
    >>> class MyNormal(Normal):
    ...     pass
    >>> @register_kl(MyNormal, MyNormal)
    ... def _kl(p, q):
    ...     return (p.loc - q.loc).abs()
    >>> from chainrule.distributions import kl_divergence
    >>> kl_divergence(MyNormal(0.0, 1.0), MyNormal(2.0, 1.0))
    tensor(2.)
    """
    if not isinstance(type_p, type):
        raise TypeError(f"Expected type_p to be a Distribution subclass but got {type_p}")
    if not isinstance(type_q, type):
        raise TypeError(f"Expected type_q to be a Distribution subclass but got {type_q}")

    def decorator(fn):
        _KL_REGISTRY[type_p, type_q] = fn
        _KL_MEMO.clear()
        return fn
    return decorator


def _dispatch(tp, tq):
    best, key = None, None
    for (p, q), fn in _KL_REGISTRY.items():
        if issubclass(tp, p) and issubclass(tq, q):
            k = (tp.__mro__.index(p), tq.__mro__.index(q))
            if key is None or k < key:
                best, key = fn, k
    return best


def kl_divergence(p, q):
    """KL(p || q) for a registered pair of distribution types (batch-shaped Tensor).

    >>> from chainrule.distributions import Bernoulli, kl_divergence
    >>> kl_divergence(Bernoulli(0.5), Bernoulli(0.5))
    tensor(0.)
    """
    key = (type(p), type(q))
    if key not in _KL_MEMO:
        _KL_MEMO[key] = _dispatch(*key)
    fn = _KL_MEMO[key]
    if fn is None:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type "
                                  f"{type(p).__name__} and q type {type(q).__name__}")
    return fn(p, q)


def _inf(t):
    return _c.full((), math.inf, dtype=t.dtype)


def _zero(t):
    return _c.zeros((), dtype=t.dtype)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - _c.log(var_ratio))


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    t1 = p.probs * (_F.softplus(-q.logits) - _F.softplus(-p.logits))
    t1 = _c.where(q.probs == 0, _inf(t1), t1)
    t1 = _c.where(p.probs == 0, _zero(t1), t1)
    t2 = (1 - p.probs) * (_F.softplus(q.logits) - _F.softplus(p.logits))
    t2 = _c.where(q.probs == 1, _inf(t2), t2)
    t2 = _c.where(p.probs == 1, _zero(t2), t2)
    return t1 + t2


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    t = _c.where(q.probs == 0, _inf(t), t)
    t = _c.where(p.probs == 0, _zero(t), t)
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehot_onehot(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    r = _c.log((q.high - q.low) / (p.high - p.low))
    return _c.where((q.low > p.low) | (q.high < p.high), _inf(r), r)


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("KL between Independents with different "
                                  "reinterpreted_batch_ndims is not implemented")
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with "
                         "different event shapes cannot be computed")
    Lp, Lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    half_t1 = (Lq.diagonal(dim1=-2, dim2=-1).log().sum(-1)
               - Lp.diagonal(dim1=-2, dim2=-1).log().sum(-1))
    n = p.event_shape[0]
    shape = _c.broadcast_shapes(tuple(Lq.shape[:-2]), tuple(Lp.shape[:-2]))
    Lqb = Lq.expand(tuple(shape) + (n, n))
    Lpb = Lp.expand(tuple(shape) + (n, n))
    t2 = (_c.linalg.solve_triangular(Lqb, Lpb, upper=False) ** 2).sum((-2, -1))
    t3 = _batch_mahalanobis(Lq, q.loc - p.loc)
    return half_t1 + 0.5 * (t2 + t3 - n)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    r = q.rate / p.rate
    return -_c.log(r) + r - 1


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    sr = p.scale / q.scale
    d = (p.loc - q.loc).abs()
    return -_c.log(sr) + d / q.scale + sr * _c.exp(-d / p.scale) - 1


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    t1 = q.concentration * _c.log(p.rate / q.rate)
    t2 = _c.lgamma(q.concentration) - _c.lgamma(p.concentration)
    t3 = (p.concentration - q.concentration) * _c.digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    sp = p.concentration1 + p.concentration0
    sq = q.concentration1 + q.concentration0
    t1 = _c.lgamma(q.concentration1) + _c.lgamma(q.concentration0) + _c.lgamma(sp)
    t2 = _c.lgamma(p.concentration1) + _c.lgamma(p.concentration0) + _c.lgamma(sq)
    t3 = (p.concentration1 - q.concentration1) * _c.digamma(p.concentration1)
    t4 = (p.concentration0 - q.concentration0) * _c.digamma(p.concentration0)
    t5 = (sq - sp) * _c.digamma(sp)
    return t1 - t2 + t3 + t4 + t5


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    sp = p.concentration.sum(-1)
    sq = q.concentration.sum(-1)
    t1 = _c.lgamma(sp) - _c.lgamma(sq)
    t2 = (_c.lgamma(p.concentration) - _c.lgamma(q.concentration)).sum(-1)
    t3 = p.concentration - q.concentration
    t4 = _c.digamma(p.concentration) - _c.digamma(sp).unsqueeze(-1)
    return t1 - t2 + (t3 * t4).sum(-1)
