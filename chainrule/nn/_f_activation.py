"""Activation functions and the softmax family (issue 3)."""

__all__ = []
