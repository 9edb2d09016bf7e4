"""Composites built from primitives (no backward of their own): var, std, norm, logsumexp,
...: the reductions catalogue (issue 3)."""

__all__ = []
