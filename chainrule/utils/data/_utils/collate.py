"""Turn lists of samples into batches (``default_collate``) and arrays into tensors
(``default_convert``)."""
import collections.abc as abc
import copy
import re

import numpy as np

import chainrule
from chainrule import Tensor

__all__ = ["default_collate", "default_convert"]

_NP_STR_OBJ = re.compile(r"[SaUO]")
_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        "found {}")


def _is_numpy(elem):
    return type(elem).__module__ == "numpy" and not isinstance(elem, (np.str_, np.bytes_))


def _is_namedtuple(elem):
    return isinstance(elem, tuple) and hasattr(elem, "_fields")


def _stack(batch):
    first = batch[0]
    for i, t in enumerate(batch):
        if t.shape != first.shape:
            raise RuntimeError("stack expects each tensor to be equal size, but got "
                               f"{list(first.shape)} at entry 0 and {list(t.shape)} at entry {i}")
    if any(t.requires_grad for t in batch):
        return chainrule.stack(batch, 0)
    dtype = first.dtype
    for t in batch[1:]:
        if t.dtype != dtype:
            dtype = chainrule.promote_types(dtype, t.dtype)
    out = np.empty((len(batch),) + tuple(first.shape), dtype=dtype.np)
    for i, t in enumerate(batch):
        out[i] = t.numpy()
    return chainrule.from_numpy(out)


def default_collate(batch):
    """Collate a list of samples into a batch: tensors and NumPy arrays are stacked on a new
    first dimension, Python floats/ints/bools become float64/int64/bool tensors, strings stay
    lists, and dicts, named tuples, tuples and lists are collated field by field (tuples come
    back as lists).

    >>> import chainrule
    >>> from chainrule.utils.data import default_collate
    >>> default_collate([(chainrule.tensor([1.0, 2.0]), 0), (chainrule.tensor([3.0, 4.0]), 1)])
    [tensor([[1., 2.],
            [3., 4.]]), tensor([0, 1])]
    >>> default_collate([{"x": 1.5, "name": "a"}, {"x": 2.5, "name": "b"}])
    {'x': tensor([1.5000, 2.5000], dtype=chainrule.float64), 'name': ['a', 'b']}
    """
    elem = batch[0]
    elem_type = type(elem)
    if isinstance(elem, Tensor):
        return _stack(batch)
    if _is_numpy(elem):
        if isinstance(elem, np.ndarray):
            if _NP_STR_OBJ.search(elem.dtype.str) is not None:
                raise TypeError(_ERR.format(elem.dtype))
            return _stack([chainrule.as_tensor(b) for b in batch])
        if elem.shape == ():
            return chainrule.as_tensor(np.array(batch))
    if isinstance(elem, float):
        return chainrule.tensor(batch, dtype=chainrule.float64)
    if isinstance(elem, int):
        return chainrule.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, abc.Mapping):
        fields = {key: default_collate([d[key] for d in batch]) for key in elem}
        if isinstance(elem, abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(fields)
            return clone
        try:
            return elem_type(fields)
        except TypeError:
            return fields
    if _is_namedtuple(elem):
        return elem_type(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, abc.Sequence):
        size = len(elem)
        if not all(len(e) == size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(s) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return columns
        if isinstance(elem, abc.MutableSequence):
            clone = copy.copy(elem)
            for i, c in enumerate(columns):
                clone[i] = c
            return clone
        try:
            return elem_type(columns)
        except TypeError:
            return columns
    raise TypeError(_ERR.format(elem_type))


def default_convert(data):
    """Convert NumPy arrays (also inside dicts, named tuples and sequences) to tensors; used
    when automatic batching is off (``batch_size=None``).

    >>> import numpy as np
    >>> from chainrule.utils.data import default_convert
    >>> default_convert({"x": np.zeros(2), "y": 3})
    {'x': tensor([0., 0.], dtype=chainrule.float64), 'y': 3}
    """
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if _is_numpy(data):
        if isinstance(data, np.ndarray) and _NP_STR_OBJ.search(data.dtype.str) is not None:
            return data
        return chainrule.as_tensor(data)
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, abc.Mapping):
        fields = {k: default_convert(v) for k, v in data.items()}
        if isinstance(data, abc.MutableMapping):
            clone = copy.copy(data)
            clone.update(fields)
            return clone
        try:
            return elem_type(fields)
        except TypeError:
            return fields
    if _is_namedtuple(data):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, abc.Sequence):
        items = [default_convert(d) for d in data]
        if isinstance(data, abc.MutableSequence):
            clone = copy.copy(data)
            for i, d in enumerate(items):
                clone[i] = d
            return clone
        try:
            return elem_type(items)
        except TypeError:
            return items
    return data
