"""nn functions torch also exposes at top level (torch.softmax, torch.log_softmax, ...)."""

__all__ = []
