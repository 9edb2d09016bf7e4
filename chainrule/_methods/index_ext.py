"""Tensor methods for the indexing catalogue (issue 3).
Each method forwards to a function in chainrule.ops / functional_ops / nn.functional."""


class IndexMethods:
    __slots__ = ()
