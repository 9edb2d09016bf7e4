"""Constraints: the sets a distribution's parameters and values must lie in.

Each constraint has ``check(value)`` returning a bool Tensor (one entry per batch element)
and ``event_dim``, the number of rightmost dims checked together.

>>> import chainrule
>>> from chainrule.distributions import constraints
>>> constraints.positive.check(chainrule.tensor([1.0, -1.0]))
tensor([ True, False])
"""
import chainrule as _c

__all__ = ["Constraint", "boolean", "dependent", "dependent_property", "greater_than",
           "greater_than_eq", "independent", "integer_interval", "interval", "less_than",
           "lower_cholesky", "nonnegative", "nonnegative_integer", "one_hot", "positive",
           "positive_definite", "real", "real_vector", "simplex", "unit_interval"]


def _num(x):
    return x.item() if isinstance(x, _c.Tensor) and x.numel() == 1 else x


class Constraint:
    """Base class of constraints.

    >>> from chainrule.distributions import constraints
    >>> constraints.real
    Real()
    """
    is_discrete = False
    event_dim = 0

    def check(self, value):
        raise TypeError(f"{type(self).__name__} is abstract")

    def __repr__(self):
        return type(self).__name__[1:] + "()"


class _Dependent(Constraint):
    def __init__(self, *, is_discrete=False, event_dim=0):
        self.is_discrete = is_discrete
        self.event_dim = event_dim

    def __call__(self, *, is_discrete=False, event_dim=0):
        return _Dependent(is_discrete=is_discrete, event_dim=event_dim)

    def check(self, value):
        raise ValueError("Cannot determine validity of dependent constraint")


class dependent_property(property):
    """A property that is also a dependent constraint (its value depends on parameters).

    >>> from chainrule.distributions import constraints
    >>> isinstance(constraints.dependent_property(lambda self: 1), property)
    True
    """

    def __init__(self, fn=None, *, is_discrete=False, event_dim=0):
        super().__init__(fn)
        self.is_discrete = is_discrete
        self.event_dim = event_dim

    def __call__(self, fn):
        return dependent_property(fn, is_discrete=self.is_discrete, event_dim=self.event_dim)


class _Real(Constraint):
    def check(self, value):
        return value == value


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value):
        return (value == 0) | (value == 1)


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1

    def check(self, value):
        ok = ((value == 0) | (value == 1)).all(-1)
        return ok & (value.sum(-1) == 1)


class _IntegerInterval(Constraint):
    is_discrete = True

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value):
        return (value % 1 == 0) & (value >= self.lower_bound) & (value <= self.upper_bound)

    def __repr__(self):
        return (f"IntegerInterval(lower_bound={_num(self.lower_bound)}, "
                f"upper_bound={_num(self.upper_bound)})")


class _IntegerGreaterThan(Constraint):
    is_discrete = True

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        return (value % 1 == 0) & (value >= self.lower_bound)

    def __repr__(self):
        return f"IntegerGreaterThan(lower_bound={_num(self.lower_bound)})"


class _GreaterThan(Constraint):
    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        return value > self.lower_bound

    def __repr__(self):
        return f"GreaterThan(lower_bound={_num(self.lower_bound)})"


class _GreaterThanEq(_GreaterThan):
    def check(self, value):
        return value >= self.lower_bound

    def __repr__(self):
        return f"GreaterThanEq(lower_bound={_num(self.lower_bound)})"


class _LessThan(Constraint):
    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return value < self.upper_bound

    def __repr__(self):
        return f"LessThan(upper_bound={_num(self.upper_bound)})"


class _Interval(Constraint):
    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value):
        return (value >= self.lower_bound) & (value <= self.upper_bound)

    def __repr__(self):
        return (f"Interval(lower_bound={_num(self.lower_bound)}, "
                f"upper_bound={_num(self.upper_bound)})")


class _HalfOpenInterval(_Interval):
    def check(self, value):
        return (value >= self.lower_bound) & (value < self.upper_bound)

    def __repr__(self):
        return "HalfOpen" + super().__repr__()


class _Independent(Constraint):
    def __init__(self, base_constraint, reinterpreted_batch_ndims):
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    @property
    def is_discrete(self):
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def check(self, value):
        ok = self.base_constraint.check(value)
        n = self.reinterpreted_batch_ndims
        if ok.dim() < n:
            raise ValueError(f"Expected value.dim() >= {n} but got {ok.dim()}")
        if n:
            ok = ok.reshape(tuple(ok.shape[:ok.dim() - n]) + (-1,)).all(-1)
        return ok

    def __repr__(self):
        return f"IndependentConstraint({self.base_constraint!r}, {self.reinterpreted_batch_ndims})"


class _Simplex(Constraint):
    event_dim = 1

    def check(self, value):
        return (value >= 0).all(-1) & ((value.sum(-1) - 1).abs() < 1e-6)


class _LowerCholesky(Constraint):
    event_dim = 2

    def check(self, value):
        tril = (value.tril() == value).reshape(tuple(value.shape[:-2]) + (-1,)).min(-1)[0]
        pos = (value.diagonal(dim1=-2, dim2=-1) > 0).min(-1)[0]
        return tril & pos


class _PositiveDefinite(Constraint):
    event_dim = 2

    def check(self, value):
        import numpy as np
        a = value.detach().numpy()
        sym = np.isclose(a, np.swapaxes(a, -1, -2), atol=1e-6).reshape(
            a.shape[:-2] + (-1,)).all(-1)
        flat = a.reshape((-1,) + a.shape[-2:])
        pd = np.empty(len(flat), dtype=bool)
        for i, m in enumerate(flat):
            try:
                np.linalg.cholesky(m)
                pd[i] = np.isfinite(m).all()
            except np.linalg.LinAlgError:
                pd[i] = False
        return _c.tensor(sym & pd.reshape(a.shape[:-2]))


def _with_name(cls, name):
    cls.__repr__ = lambda self: name + "()"
    return cls


dependent = _Dependent()
boolean = _Boolean()
one_hot = _OneHot()
real = _Real()
real_vector = _Independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
nonnegative_integer = _IntegerGreaterThan(0)
unit_interval = _Interval(0.0, 1.0)
simplex = _Simplex()
lower_cholesky = _LowerCholesky()
positive_definite = _PositiveDefinite()
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
interval = _Interval
half_open_interval = _HalfOpenInterval
integer_interval = _IntegerInterval
independent = _Independent
