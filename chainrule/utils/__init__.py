"""chainrule.utils: data loading and checkpointing."""
from . import checkpoint, data  # noqa: F401  (both reachable as attributes, as in torch)
