"""Tensor methods for the elementwise catalogue (issue 3).
Each method forwards to a function in chainrule.ops / functional_ops / nn.functional."""


def _E():
    from ..ops import elementwise
    return elementwise


def _ip(self, fn, *args, name, **kwargs):
    from ..ops.inplace import inplace
    return inplace(self, fn, *args, name=name, **kwargs)


class ElementwiseMethods:
    __slots__ = ()

    def floor(self):
        return _E().floor(self)

    def ceil(self):
        return _E().ceil(self)

    def round(self, decimals=0):
        return _E().round(self, decimals=decimals)

    def trunc(self):
        return _E().trunc(self)

    fix = trunc

    def log1p(self):
        return _E().log1p(self)

    def expm1(self):
        return _E().expm1(self)

    def square(self):
        return _E().square(self)

    def reciprocal(self):
        return _E().reciprocal(self)

    def rsqrt(self):
        return _E().rsqrt(self)

    def erf(self):
        return _E().erf(self)

    # in-place forms
    def floor_(self):
        return _ip(self, _E().floor, name="floor_")

    def ceil_(self):
        return _ip(self, _E().ceil, name="ceil_")

    def round_(self, decimals=0):
        return _ip(self, _E().round, decimals=decimals, name="round_")

    def trunc_(self):
        return _ip(self, _E().trunc, name="trunc_")

    fix_ = trunc_

    def log1p_(self):
        return _ip(self, _E().log1p, name="log1p_")

    def expm1_(self):
        return _ip(self, _E().expm1, name="expm1_")

    def square_(self):
        return _ip(self, _E().square, name="square_")

    def reciprocal_(self):
        return _ip(self, _E().reciprocal, name="reciprocal_")

    def rsqrt_(self):
        return _ip(self, _E().rsqrt, name="rsqrt_")

    def erf_(self):
        return _ip(self, _E().erf, name="erf_")
