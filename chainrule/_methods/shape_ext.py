"""Tensor methods for the shape catalogue (issue 3).
Each method forwards to a function in chainrule.ops / functional_ops / nn.functional."""


def _S():
    from ..ops import shape
    return shape


def _dims(dims):
    """Accept f(1, 2) as well as f((1, 2)) / f([1, 2])."""
    return dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims


class ShapeMethods:
    __slots__ = ()

    def split(self, split_size, dim=0):
        return _S().split(self, split_size, dim)

    def chunk(self, chunks, dim=0):
        return _S().chunk(self, chunks, dim)

    def flatten(self, start_dim=0, end_dim=-1):
        return _S().flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return _S().unflatten(self, dim, sizes)

    def flip(self, *dims):
        return _S().flip(self, _dims(dims))
