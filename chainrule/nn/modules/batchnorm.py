"""torch.nn.modules.batchnorm's names (the classes live in normalization.py)."""
from .normalization import (_BatchNorm, _LazyNormBase, _NormBase, BatchNorm1d,  # noqa: F401
                            BatchNorm2d, BatchNorm3d, LazyBatchNorm1d, LazyBatchNorm2d,
                            LazyBatchNorm3d)

__all__ = ["BatchNorm1d", "LazyBatchNorm1d", "BatchNorm2d", "LazyBatchNorm2d", "BatchNorm3d",
           "LazyBatchNorm3d"]
