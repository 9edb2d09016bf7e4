"""torch.nn.modules.channelshuffle's names (the class lives in pixelshuffle.py)."""
from .pixelshuffle import ChannelShuffle

__all__ = ["ChannelShuffle"]
