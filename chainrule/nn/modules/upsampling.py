"""torch.nn.modules.upsampling's names (the classes live in pixelshuffle.py)."""
from .pixelshuffle import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]
