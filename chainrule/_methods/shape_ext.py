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

    # -- group 4 -------------------------------------------------------------------------
    def movedim(self, source, destination):
        return _S().movedim(self, source, destination)

    moveaxis = movedim

    def swapaxes(self, axis0, axis1):
        return _S().transpose(self, axis0, axis1)

    def swapdims(self, dim0, dim1):
        return _S().transpose(self, dim0, dim1)

    def repeat(self, *sizes):
        return _S().repeat(self, *sizes)

    def tile(self, *dims):
        return _S().tile(self, _dims(dims))

    def repeat_interleave(self, repeats=None, dim=None, *, output_size=None):
        return _S().repeat_interleave(self, repeats, dim, output_size=output_size)

    def fliplr(self):
        return _S().fliplr(self)

    def flipud(self):
        return _S().flipud(self)

    def roll(self, shifts, dims=None):
        return _S().roll(self, shifts, dims)

    def rot90(self, k=1, dims=(0, 1)):
        return _S().rot90(self, k, dims)

    def tensor_split(self, indices_or_sections, dim=0):
        return _S().tensor_split(self, indices_or_sections, dim)

    def hsplit(self, indices_or_sections):
        return _S().hsplit(self, indices_or_sections)

    def vsplit(self, indices_or_sections):
        return _S().vsplit(self, indices_or_sections)

    def dsplit(self, indices_or_sections):
        return _S().dsplit(self, indices_or_sections)

    def unbind(self, dim=0):
        return _S().unbind(self, dim)

    def narrow(self, dim, start, length):
        return _S().narrow(self, dim, start, length)

    def select(self, dim, index):
        return _S().select(self, dim, index)

    def diag(self, diagonal=0):
        return _S().diag(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return _S().diagonal(self, offset, dim1, dim2)

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        return _S().diag_embed(self, offset, dim1, dim2)

    def tril(self, diagonal=0):
        return _S().tril(self, diagonal)

    def triu(self, diagonal=0):
        return _S().triu(self, diagonal)

    def tril_(self, diagonal=0):
        from ..ops.inplace import inplace
        return inplace(self, _S().tril, diagonal, name="tril_")

    def triu_(self, diagonal=0):
        from ..ops.inplace import inplace
        return inplace(self, _S().triu, diagonal, name="triu_")

    def broadcast_to(self, size):
        return _S().broadcast_to(self, size)
