"""Loss functions (issue 3)."""

__all__ = []
