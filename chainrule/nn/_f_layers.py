"""Layer functions: linear, conv, pooling, interpolation, embedding, attention (issue 3)."""

__all__ = []
