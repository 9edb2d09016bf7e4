"""save/load in the safetensors format, never pickle (issue 5)."""

__all__ = []
