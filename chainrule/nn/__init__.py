"""chainrule.nn: modules, functional, init, utils (issue 5)."""
from . import functional, init  # noqa: F401
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa
from .modules import *  # noqa: F401,F403
from . import utils  # noqa: F401,E402
