"""Tensor methods for the linear algebra catalogue (issue 3).
Each method forwards to a function in chainrule.ops / functional_ops / nn.functional."""


class LinalgMethods:
    __slots__ = ()
