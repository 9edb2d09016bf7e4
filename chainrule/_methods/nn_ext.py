"""Tensor methods for the nn-flavoured Tensor methods: softmax, log_softmax, ... (issue 3).
Each method forwards to a function in chainrule.ops / functional_ops / nn.functional."""


def _A():
    from ..nn import _f_activation
    return _f_activation


class NNMethods:
    __slots__ = ()

    def softmax(self, dim, dtype=None):
        """``nn.functional.softmax(self, dim, dtype=dtype)``.

        >>> import chainrule
        >>> chainrule.tensor([0.0, 0.0]).softmax(0)
        tensor([0.5000, 0.5000])
        """
        return _A().softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim, dtype=None):
        """``nn.functional.log_softmax(self, dim, dtype=dtype)``.

        >>> import chainrule
        >>> chainrule.tensor([0.0, 0.0]).log_softmax(0)
        tensor([-0.6931, -0.6931])
        """
        return _A().log_softmax(self, dim, dtype=dtype)

    def hardshrink(self, lambd=0.5):
        """``nn.functional.hardshrink(self, lambd)``.

        >>> import chainrule
        >>> chainrule.tensor([0.2, 1.0]).hardshrink()
        tensor([0., 1.])
        """
        return _A().hardshrink(self, lambd)

    def prelu(self, weight):
        """``nn.functional.prelu(self, weight)``.

        >>> import chainrule
        >>> chainrule.tensor([-2.0]).prelu(chainrule.tensor([0.5]))
        tensor([-1.])
        """
        return _A().prelu(self, weight)
