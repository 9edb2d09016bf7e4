"""Flatten parameters into one vector and back."""
from ..._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check(t):
    if not isinstance(t, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(t).__name__}")


def parameters_to_vector(parameters):
    """Concatenate the flattened parameters into one 1-D tensor.

    >>> import chainrule
    >>> chainrule.nn.utils.parameters_to_vector(chainrule.nn.Linear(2, 1).parameters()).shape
    chainrule.Size([3])
    """
    import chainrule
    flat = []
    for p in parameters:
        _check(p)
        flat.append(p.reshape(-1))
    return chainrule.cat(flat)


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of vec into the parameters (their ``.data`` becomes a view
    of vec, as in torch).

    >>> import chainrule
    >>> m = chainrule.nn.Linear(2, 1)
    >>> chainrule.nn.utils.vector_to_parameters(chainrule.arange(3.0), m.parameters())
    >>> m.weight, m.bias
    (Parameter containing:
    tensor([[0., 1.]], requires_grad=True), Parameter containing:
    tensor([2.], requires_grad=True))
    """
    _check(vec)
    pos = 0
    for p in parameters:
        n = p.numel()
        p.data = vec[pos:pos + n].view_as(p).data
        pos += n
