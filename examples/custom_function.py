"""A custom autograd Function: softplus(x) = log(1 + exp(x)), written with its own forward and
backward, checked against numerical derivatives (first and second order).

Run: python examples/custom_function.py
"""
import chainrule
from chainrule.autograd import gradcheck, gradgradcheck


class Softplus(chainrule.autograd.Function):
    """log(1 + e^x), computed as max(x, 0) + log(1 + e^-|x|) so it never overflows."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0) + (1 + (-x.abs()).exp()).log()

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        # d/dx softplus(x) = sigmoid(x); written with tensor ops, so it is differentiable too
        return grad * x.sigmoid()


def main():
    x = chainrule.tensor([-10.0, -1.0, 0.0, 2.0, 800.0], requires_grad=True)
    y = Softplus.apply(x)
    y.sum().backward()
    print("x          ", x.detach())
    print("softplus(x)", y.detach())
    print("gradient   ", x.grad)

    x64 = chainrule.randn(6, dtype=chainrule.float64, requires_grad=True)
    print("gradcheck    :", gradcheck(Softplus.apply, (x64,)))
    print("gradgradcheck:", gradgradcheck(Softplus.apply, (x64,)))


if __name__ == "__main__":
    main()
