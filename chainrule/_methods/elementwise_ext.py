"""Tensor methods for the elementwise catalogue (issue 3).
Each method forwards to a function in chainrule.ops / functional_ops / nn.functional."""


class ElementwiseMethods:
    __slots__ = ()
