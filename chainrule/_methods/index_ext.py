"""Tensor methods for the indexing catalogue (issue 3).
Each method forwards to a function in chainrule.ops / functional_ops / nn.functional."""


def _ix():
    from ..ops import index
    return index


def _inplace(self, fn, *args, name, **kwargs):
    from ..ops.inplace import inplace
    return inplace(self, fn, *args, name=name, **kwargs)


class IndexMethods:
    __slots__ = ()

    def gather(self, dim, index, *, sparse_grad=False):
        return _ix().gather(self, dim, index)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return _ix().scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        return _inplace(self, _ix().scatter, dim, index, src, value=value, reduce=reduce,
                        name="scatter_")

    def scatter_add(self, dim, index, src):
        return _ix().scatter_add(self, dim, index, src)

    def scatter_add_(self, dim, index, src):
        return _inplace(self, _ix().scatter_add, dim, index, src, name="scatter_add_")

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        return _ix().scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
        return _inplace(self, _ix().scatter_reduce, dim, index, src, reduce,
                        include_self=include_self, name="scatter_reduce_")

    def index_select(self, dim, index):
        return _ix().index_select(self, dim, index)

    def index_add(self, dim, index, source, *, alpha=1):
        return _ix().index_add(self, dim, index, source, alpha=alpha)

    def index_add_(self, dim, index, source, *, alpha=1):
        return _inplace(self, _ix().index_add, dim, index, source, alpha=alpha,
                        name="index_add_")

    def index_copy(self, dim, index, source):
        return _ix().index_copy(self, dim, index, source)

    def index_copy_(self, dim, index, source):
        return _inplace(self, _ix().index_copy, dim, index, source, name="index_copy_")

    def index_fill(self, dim, index, value):
        return _ix().index_fill(self, dim, index, value)

    def index_fill_(self, dim, index, value):
        return _inplace(self, _ix().index_fill, dim, index, value, name="index_fill_")

    def index_put(self, indices, values, accumulate=False):
        return _ix().index_put(self, indices, values, accumulate)

    def index_put_(self, indices, values, accumulate=False):
        return _inplace(self, _ix().index_put, indices, values, accumulate, name="index_put_")

    def masked_fill(self, mask, value):
        return _ix().masked_fill(self, mask, value)

    def masked_fill_(self, mask, value):
        return _inplace(self, _ix().masked_fill, mask, value, name="masked_fill_")

    def masked_select(self, mask):
        return _ix().masked_select(self, mask)

    def masked_scatter(self, mask, source):
        return _ix().masked_scatter(self, mask, source)

    def masked_scatter_(self, mask, source):
        return _inplace(self, _ix().masked_scatter, mask, source, name="masked_scatter_")

    def take_along_dim(self, indices, dim=None):
        return _ix().take_along_dim(self, indices, dim)

    def take(self, index):
        return _ix().take(self, index)

    def put(self, index, source, accumulate=False):
        return _ix().put(self, index, source, accumulate)

    def put_(self, index, source, accumulate=False):
        return _inplace(self, _ix().put, index, source, accumulate, name="put_")

    def nonzero(self, *, as_tuple=False):
        return _ix().nonzero(self, as_tuple=as_tuple)

    def argwhere(self):
        return _ix().argwhere(self)

    def sort(self, dim=-1, descending=False, stable=False):
        return _ix().sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return _ix().argsort(self, dim, descending, stable)

    def msort(self):
        return _ix().msort(self)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return _ix().topk(self, k, dim, largest, sorted)

    def kthvalue(self, k, dim=-1, keepdim=False):
        return _ix().kthvalue(self, k, dim, keepdim)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return _ix().unique(self, sorted, return_inverse, return_counts, dim)

    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        return _ix().unique_consecutive(self, return_inverse, return_counts, dim)

    def index_reduce(self, dim, index, source, reduce, *, include_self=True):
        return _ix().index_reduce(self, dim, index, source, reduce, include_self=include_self)

    def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
        return _inplace(self, _ix().index_reduce, dim, index, source, reduce,
                        include_self=include_self, name="index_reduce_")

    def nonzero_static(self, *, size, fill_value=-1):
        return _ix().nonzero_static(self, size=size, fill_value=fill_value)

    def select_scatter(self, src, dim, index):
        return _ix().select_scatter(self, src, dim, index)

    def slice_scatter(self, src, dim=0, start=None, end=None, step=1):
        return _ix().slice_scatter(self, src, dim, start, end, step)

    def diagonal_scatter(self, src, offset=0, dim1=0, dim2=1):
        return _ix().diagonal_scatter(self, src, offset, dim1, dim2)
