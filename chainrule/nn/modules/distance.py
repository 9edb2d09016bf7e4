"""PairwiseDistance and CosineSimilarity."""
from .. import functional as F
from .module import Module

__all__ = ["PairwiseDistance", "CosineSimilarity"]


class PairwiseDistance(Module):
    """Row-wise p-norm distance ||x1 - x2 + eps||_p.

    >>> import chainrule
    >>> chainrule.nn.PairwiseDistance()(chainrule.zeros(1, 2), chainrule.tensor([[3.0, 4.0]]))
    tensor([5.0000])
    """

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """Cosine of the angle between x1 and x2 along dim.

    >>> import chainrule
    >>> chainrule.nn.CosineSimilarity()(chainrule.tensor([[1.0, 0.0]]),
    ...                                 chainrule.tensor([[1.0, 0.0]]))
    tensor([1.])
    """

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
