"""chainrule.linalg: torch.linalg's namespace (issue 3)."""

__all__ = []
