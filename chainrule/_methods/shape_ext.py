"""Tensor methods for the shape catalogue (issue 3).
Each method forwards to a function in chainrule.ops / functional_ops / nn.functional."""


class ShapeMethods:
    __slots__ = ()
