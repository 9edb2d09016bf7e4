"""Identity, Linear, Bilinear, LazyLinear."""
import math

from ..._device import check_device
from .. import functional as F
from .. import init
from ...autograd.grad_mode import no_grad
from ...ops.nn_ops import linear_fast
from ..parameter import Parameter, UninitializedParameter
from .lazy import LazyModuleMixin
from .module import Module

__all__ = ["Identity", "Linear", "Bilinear", "LazyLinear", "NonDynamicallyQuantizableLinear"]


def _empty(*shape, device=None, dtype=None):
    import chainrule
    check_device(device)
    return chainrule.empty(*shape, dtype=dtype)


class Identity(Module):
    """Returns its input unchanged (arguments are accepted and ignored).

    >>> import chainrule
    >>> chainrule.nn.Identity(54, unused="x")(chainrule.ones(2))
    tensor([1., 1.])
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x @ weight.T + bias, weight of shape (out_features, in_features). Initialised as
    torch does: weight ~ kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)), and
    bias ~ U(-1/sqrt(in), 1/sqrt(in)).

    >>> import chainrule
    >>> fc = chainrule.nn.Linear(4, 3)
    >>> fc(chainrule.ones(2, 4)).shape, fc.weight.shape
    (chainrule.Size([2, 3]), chainrule.Size([3, 4]))
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(_empty(out_features, in_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(_empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        ps = self._parameters
        try:    # straight from the registry: skips Module.__getattr__'s failed lookup
            w, b = ps["weight"], ps["bias"]
        except KeyError:    # replaced by a plain attribute (functional_call and the like)
            w, b = self.weight, self.bias
        out = linear_fast(input, w, b)
        return out if out is not None else F.linear(input, w, b)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class NonDynamicallyQuantizableLinear(Linear):
    """The Linear MultiheadAttention uses for its output projection (same as Linear).

    >>> import chainrule
    >>> chainrule.nn.MultiheadAttention(4, 2).out_proj
    NonDynamicallyQuantizableLinear(in_features=4, out_features=4, bias=True)
    """


class Bilinear(Module):
    """y = x1^T A x2 + b with weight A of shape (out, in1, in2); all parameters
    ~ U(-1/sqrt(in1), 1/sqrt(in1)).

    >>> import chainrule
    >>> m = chainrule.nn.Bilinear(2, 3, 4)
    >>> m(chainrule.ones(5, 2), chainrule.ones(5, 3)).shape
    chainrule.Size([5, 4])
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(_empty(out_features, in1_features, in2_features, device=device,
                                       dtype=dtype))
        if bias:
            self.bias = Parameter(_empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class LazyLinear(LazyModuleMixin, Linear):
    """A Linear whose in_features is taken from the first input's last dimension.

    >>> import chainrule
    >>> m = chainrule.nn.LazyLinear(2)
    >>> m(chainrule.ones(1, 7)).shape, m
    (chainrule.Size([1, 2]), Linear(in_features=7, out_features=2, bias=True))
    """
    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter()
        self.out_features = out_features
        self._dtype = dtype
        if bias:
            self.bias = UninitializedParameter()

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                dtype = self._dtype or input.dtype
                self.weight.materialize((self.out_features, self.in_features), dtype=dtype)
                if self.bias is not None:
                    self.bias.materialize((self.out_features,), dtype=dtype)
                self.reset_parameters()
