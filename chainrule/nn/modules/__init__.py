"""nn.Module and the layer modules (issue 5)."""

__all__ = []
