"""Tensor methods for the reductions catalogue (issue 3).
Each method forwards to a function in chainrule.ops / functional_ops / nn.functional."""


class ReduceMethods:
    __slots__ = ()
