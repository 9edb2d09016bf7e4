"""Tensor methods for the in-place random fills used by nn.init: uniform_, normal_, ... (issue 5).
Each method forwards to a function in chainrule.ops / functional_ops / nn.functional."""


class RandomMethods:
    __slots__ = ()
