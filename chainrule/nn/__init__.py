"""chainrule.nn: modules, functional, init, utils (issue 5)."""
from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
