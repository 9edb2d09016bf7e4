"""torch.nn.modules.fold's names (the classes live in pixelshuffle.py)."""
from .pixelshuffle import Fold, Unfold

__all__ = ["Fold", "Unfold"]
