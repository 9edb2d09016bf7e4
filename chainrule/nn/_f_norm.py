"""Normalisation and dropout functions (issue 3)."""

__all__ = []
