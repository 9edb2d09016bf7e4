"""Tensor methods for the reductions catalogue (issue 3).
Each method forwards to a function in chainrule.ops / functional_ops / nn.functional."""


def _R():
    from ..ops import reduce
    return reduce


def _F():
    from .. import functional_ops
    return functional_ops


def _ip(self, fn, *args, name, **kwargs):
    from ..ops.inplace import inplace
    return inplace(self, fn, *args, name=name, **kwargs)


class ReduceMethods:
    __slots__ = ()

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _F().var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _F().std(self, dim, unbiased, keepdim, correction=correction)

    def logsumexp(self, dim, keepdim=False):
        return _F().logsumexp(self, dim, keepdim)

    def amax(self, dim=(), keepdim=False):
        return _R().amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return _R().amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return _R().argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _R().argmin(self, dim, keepdim)

    def prod(self, dim=None, keepdim=False, *, dtype=None):
        return _R().prod(self, dim, keepdim, dtype=dtype)

    def cumsum(self, dim, *, dtype=None):
        return _R().cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim, *, dtype=None):
        return _R().cumprod(self, dim, dtype=dtype)

    def all(self, dim=None, keepdim=False):
        return _R().all(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return _R().any(self, dim, keepdim)

    def cumsum_(self, dim, *, dtype=None):
        return _ip(self, _R().cumsum, dim, dtype=dtype, name="cumsum_")

    def cumprod_(self, dim, *, dtype=None):
        return _ip(self, _R().cumprod, dim, dtype=dtype, name="cumprod_")

    # -- group 3 -------------------------------------------------------------------------
    def cummax(self, dim):
        return _R().cummax(self, dim)

    def cummin(self, dim):
        return _R().cummin(self, dim)

    def median(self, dim=None, keepdim=False):
        return _R().median(self, dim, keepdim)

    def nanmedian(self, dim=None, keepdim=False):
        return _R().nanmedian(self, dim, keepdim)

    def mode(self, dim=-1, keepdim=False):
        return _R().mode(self, dim, keepdim)

    def count_nonzero(self, dim=None):
        return _R().count_nonzero(self, dim)

    def aminmax(self, *, dim=None, keepdim=False):
        return _R().aminmax(self, dim=dim, keepdim=keepdim)

    def nansum(self, dim=None, keepdim=False, *, dtype=None):
        return _F().nansum(self, dim, keepdim, dtype=dtype)

    def nanmean(self, dim=None, keepdim=False, *, dtype=None):
        return _F().nanmean(self, dim, keepdim, dtype=dtype)

    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return _F().quantile(self, q, dim, keepdim, interpolation=interpolation)

    def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return _F().nanquantile(self, q, dim, keepdim, interpolation=interpolation)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return _F().norm(self, p, dim, keepdim, dtype)
