"""Tensor methods of the conjugation family (real dtypes only: identities), forwarding to
chainrule._compat."""


def _C():
    from .. import _compat
    return _compat


class CompatMethods:
    __slots__ = ()

    def is_conj(self):
        return _C().is_conj(self)

    def is_neg(self):
        return _C().is_neg(self)

    def resolve_conj(self):
        return _C().resolve_conj(self)

    def resolve_neg(self):
        return _C().resolve_neg(self)

    def conj(self):
        return _C().conj(self)

    def conj_physical(self):
        return _C().conj_physical(self)

    def conj_physical_(self):
        # real dtypes: the values stay; an in-place op all the same (version bump, checks)
        from ..ops.inplace import inplace
        return inplace(self, lambda t: t.clone(), name="conj_physical_")

    @property
    def real(self):
        return _C().real(self)

    @property
    def imag(self):
        return _C().imag(self)
