"""Tensor methods for the nn-flavoured Tensor methods: softmax, log_softmax, ... (issue 3).
Each method forwards to a function in chainrule.ops / functional_ops / nn.functional."""


class NNMethods:
    __slots__ = ()
