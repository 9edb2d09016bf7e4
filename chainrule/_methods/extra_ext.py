"""Tensor methods for the extra math catalogue (chainrule.ops.extra).
Each method forwards to a function there."""


def _X():
    from ..ops import extra
    return extra


def _ip(self, fn, *args, name, **kwargs):
    from ..ops.inplace import inplace
    return inplace(self, fn, *args, name=name, **kwargs)


class ExtraMethods:
    __slots__ = ()

    def addcmul(self, tensor1, tensor2, *, value=1):
        return _X().addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1, tensor2, *, value=1):
        return _X().addcdiv(self, tensor1, tensor2, value=value)

    def addcmul_(self, tensor1, tensor2, *, value=1):
        return _ip(self, _X().addcmul, tensor1, tensor2, value=value, name="addcmul_")

    def addcdiv_(self, tensor1, tensor2, *, value=1):
        return _ip(self, _X().addcdiv, tensor1, tensor2, value=value, name="addcdiv_")

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        return _X().diff(self, n, dim, prepend, append)

    def logit(self, eps=None):
        return _X().logit(self, eps)

    def logit_(self, eps=None):
        return _X().logit_(self, eps)

    def heaviside(self, values):
        return _X().heaviside(self, values)

    def heaviside_(self, values):
        return _ip(self, _X().heaviside, values, name="heaviside_")

    def fmax(self, other):
        return _X().fmax(self, other)

    def fmin(self, other):
        return _X().fmin(self, other)

    def sinc(self):
        return _X().sinc(self)

    def sinc_(self):
        return _X().sinc_(self)

    def deg2rad(self):
        return _X().deg2rad(self)

    def deg2rad_(self):
        return _X().deg2rad_(self)

    def rad2deg(self):
        return _X().rad2deg(self)

    def rad2deg_(self):
        return _X().rad2deg_(self)

    def gcd(self, other):
        return _X().gcd(self, other)

    def gcd_(self, other):
        return _X().gcd_(self, other)

    def lcm(self, other):
        return _X().lcm(self, other)

    def lcm_(self, other):
        return _X().lcm_(self, other)

    def signbit(self):
        return _X().signbit(self)

    def logcumsumexp(self, dim):
        return _X().logcumsumexp(self, dim)

    def i0(self):
        return _X().i0(self)

    def i0_(self):
        return _X().i0_(self)

    def mvlgamma(self, p):
        return _X().mvlgamma(self, p)

    def mvlgamma_(self, p):
        return _ip(self, _X().mvlgamma, p, name="mvlgamma_")

    def dist(self, other, p=2):
        return _X().dist(self, other, p)

    def diagflat(self, offset=0):
        return _X().diagflat(self, offset)

    def renorm(self, p, dim, maxnorm):
        return _X().renorm(self, p, dim, maxnorm)

    def renorm_(self, p, dim, maxnorm):
        return _ip(self, _X().renorm, p, dim, maxnorm, name="renorm_")

    def ravel(self):
        return _X().ravel(self)

    def positive(self):
        return _X().positive(self)

    def nextafter(self, other):
        return _X().nextafter(self, other)

    def nextafter_(self, other):
        return _ip(self, _X().nextafter, other, name="nextafter_")

    def ldexp(self, other):
        return _X().ldexp(self, other)

    def ldexp_(self, other):
        return _X().ldexp_(self, other)

    def frexp(self):
        return _X().frexp(self)

    def sum_to_size(self, *size):
        return _X().sum_to_size(self, *size)

    def unfold(self, dimension, size, step):
        return _X().unfold(self, dimension, size, step)

    def fill_diagonal_(self, fill_value, wrap=False):
        return _X().fill_diagonal_(self, fill_value, wrap)

    def cov(self, *, correction=1, fweights=None, aweights=None):
        return _X().cov(self, correction=correction, fweights=fweights, aweights=aweights)

    def corrcoef(self):
        return _X().corrcoef(self)

    def bincount(self, weights=None, minlength=0):
        return _X().bincount(self, weights, minlength)

    def histc(self, bins=100, min=0, max=0):
        return _X().histc(self, bins, min, max)

    def is_signed(self):
        return _X().is_signed(self)
