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

    # -- group 2 --------------------------------------------------------------------------------
    def exp2(self):
        return _E().exp2(self)

    def log2(self):
        return _E().log2(self)

    def log10(self):
        return _E().log10(self)

    def sign(self):
        return _E().sign(self)

    def sgn(self):
        return _E().sgn(self)

    def frac(self):
        return _E().frac(self)

    def tan(self):
        return _E().tan(self)

    def asin(self):
        return _E().asin(self)

    def acos(self):
        return _E().acos(self)

    def atan(self):
        return _E().atan(self)

    def arcsin(self):
        return _E().arcsin(self)

    def arccos(self):
        return _E().arccos(self)

    def arctan(self):
        return _E().arctan(self)

    def sinh(self):
        return _E().sinh(self)

    def cosh(self):
        return _E().cosh(self)

    def asinh(self):
        return _E().asinh(self)

    def acosh(self):
        return _E().acosh(self)

    def atanh(self):
        return _E().atanh(self)

    def arcsinh(self):
        return _E().arcsinh(self)

    def arccosh(self):
        return _E().arccosh(self)

    def arctanh(self):
        return _E().arctanh(self)

    def erfc(self):
        return _E().erfc(self)

    def erfinv(self):
        return _E().erfinv(self)

    def lgamma(self):
        return _E().lgamma(self)

    def digamma(self):
        return _E().digamma(self)

    def atan2(self, other):
        return _E().atan2(self, other)

    def arctan2(self, other):
        return _E().arctan2(self, other)

    def hypot(self, other):
        return _E().hypot(self, other)

    def xlogy(self, other):
        return _E().xlogy(self, other)

    def fmod(self, other):
        return _E().fmod(self, other)

    def copysign(self, other):
        return _E().copysign(self, other)

    def float_power(self, exponent):
        return _E().float_power(self, exponent)

    def clamp_min(self, min):
        return _E().clamp_min(self, min)

    def clamp_max(self, max):
        return _E().clamp_max(self, max)

    def exp2_(self):
        return _ip(self, _E().exp2, name="exp2_")

    def log2_(self):
        return _ip(self, _E().log2, name="log2_")

    def log10_(self):
        return _ip(self, _E().log10, name="log10_")

    def sign_(self):
        return _ip(self, _E().sign, name="sign_")

    def sgn_(self):
        return _ip(self, _E().sgn, name="sgn_")

    def frac_(self):
        return _ip(self, _E().frac, name="frac_")

    def tan_(self):
        return _ip(self, _E().tan, name="tan_")

    def asin_(self):
        return _ip(self, _E().asin, name="asin_")

    def acos_(self):
        return _ip(self, _E().acos, name="acos_")

    def atan_(self):
        return _ip(self, _E().atan, name="atan_")

    def arcsin_(self):
        return _ip(self, _E().arcsin, name="arcsin_")

    def arccos_(self):
        return _ip(self, _E().arccos, name="arccos_")

    def arctan_(self):
        return _ip(self, _E().arctan, name="arctan_")

    def sinh_(self):
        return _ip(self, _E().sinh, name="sinh_")

    def cosh_(self):
        return _ip(self, _E().cosh, name="cosh_")

    def asinh_(self):
        return _ip(self, _E().asinh, name="asinh_")

    def acosh_(self):
        return _ip(self, _E().acosh, name="acosh_")

    def atanh_(self):
        return _ip(self, _E().atanh, name="atanh_")

    def arcsinh_(self):
        return _ip(self, _E().arcsinh, name="arcsinh_")

    def arccosh_(self):
        return _ip(self, _E().arccosh, name="arccosh_")

    def arctanh_(self):
        return _ip(self, _E().arctanh, name="arctanh_")

    def erfc_(self):
        return _ip(self, _E().erfc, name="erfc_")

    def erfinv_(self):
        return _ip(self, _E().erfinv, name="erfinv_")

    def lgamma_(self):
        return _ip(self, _E().lgamma, name="lgamma_")

    def digamma_(self):
        return _ip(self, _E().digamma, name="digamma_")

    def atan2_(self, other):
        return _ip(self, _E().atan2, other, name="atan2_")

    def arctan2_(self, other):
        return _ip(self, _E().arctan2, other, name="arctan2_")

    def hypot_(self, other):
        return _ip(self, _E().hypot, other, name="hypot_")

    def xlogy_(self, other):
        return _ip(self, _E().xlogy, other, name="xlogy_")

    def fmod_(self, other):
        return _ip(self, _E().fmod, other, name="fmod_")

    def copysign_(self, other):
        return _ip(self, _E().copysign, other, name="copysign_")

    def clamp_min_(self, min):
        return _ip(self, _E().clamp_min, min, name="clamp_min_")

    def clamp_max_(self, max):
        return _ip(self, _E().clamp_max, max, name="clamp_max_")
    def logaddexp(self, other):
        return _E().logaddexp(self, other)

    def logaddexp2(self, other):
        return _E().logaddexp2(self, other)

    def polygamma(self, n):
        return _E().polygamma(n, self)

    def polygamma_(self, n):
        return _ip(self, lambda t: _E().polygamma(n, t), name="polygamma_")

    def lerp(self, end, weight):
        return _E().lerp(self, end, weight)

    def lerp_(self, end, weight):
        return _ip(self, _E().lerp, end, weight, name="lerp_")

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return _E().nan_to_num(self, nan, posinf, neginf)

    def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
        return _ip(self, _E().nan_to_num, nan, posinf, neginf, name="nan_to_num_")

    def isnan(self):
        return _E().isnan(self)

    def isinf(self):
        return _E().isinf(self)

    def isfinite(self):
        return _E().isfinite(self)

    def isposinf(self):
        return _E().isposinf(self)

    def isneginf(self):
        return _E().isneginf(self)

    def float_power_(self, exponent):
        if self.dtype.name != "float64":
            raise RuntimeError(f"the base given to float_power_ has dtype "
                               f"{self.dtype.name.capitalize()} but the operation's result "
                               "requires dtype Double")
        return _ip(self, _E().float_power, exponent, name="float_power_")

    def remainder_(self, other):
        return _ip(self, _E().remainder, other, name="remainder_")

    def floor_divide_(self, other):
        return _ip(self, _E().floor_divide, other, name="floor_divide_")

    def true_divide_(self, other):
        return _ip(self, _E().div, other, name="true_divide_")

    # -- the remaining core elementwise methods and in-place forms -------------------------
    def bitwise_and(self, other):
        return _E().bitwise_and(self, other)

    def bitwise_or(self, other):
        return _E().bitwise_or(self, other)

    def bitwise_xor(self, other):
        return _E().bitwise_xor(self, other)

    def bitwise_not(self):
        return _E().bitwise_not(self)

    def bitwise_and_(self, other):
        return _ip(self, _E().bitwise_and, other, name="bitwise_and_")

    def bitwise_or_(self, other):
        return _ip(self, _E().bitwise_or, other, name="bitwise_or_")

    def bitwise_xor_(self, other):
        return _ip(self, _E().bitwise_xor, other, name="bitwise_xor_")

    def bitwise_not_(self):
        return _ip(self, _E().bitwise_not, name="bitwise_not_")

    def logical_and_(self, other):
        return _ip(self, _E().logical_and, other, name="logical_and_")

    def logical_or_(self, other):
        return _ip(self, _E().logical_or, other, name="logical_or_")

    def logical_xor_(self, other):
        return _ip(self, _E().logical_xor, other, name="logical_xor_")

    def logical_not_(self):
        return _ip(self, _E().logical_not, name="logical_not_")

    def eq_(self, other):
        return _ip(self, _E().eq, other, name="eq_")

    def ne_(self, other):
        return _ip(self, _E().ne, other, name="ne_")

    def lt_(self, other):
        return _ip(self, _E().lt, other, name="lt_")

    def le_(self, other):
        return _ip(self, _E().le, other, name="le_")

    def gt_(self, other):
        return _ip(self, _E().gt, other, name="gt_")

    def ge_(self, other):
        return _ip(self, _E().ge, other, name="ge_")

    greater_, greater_equal_, less_, less_equal_, not_equal_ = gt_, ge_, lt_, le_, ne_

    def absolute_(self):
        return _ip(self, _E().abs, name="absolute_")

    def negative_(self):
        return _ip(self, _E().neg, name="negative_")

    def multiply_(self, other):
        return _ip(self, _E().mul, other, name="multiply_")

    def subtract_(self, other, *, alpha=1):
        return _ip(self, _E().sub, other, alpha=alpha, name="subtract_")

    def divide_(self, other, *, rounding_mode=None):
        return _ip(self, _E().div, other, rounding_mode=rounding_mode, name="divide_")
