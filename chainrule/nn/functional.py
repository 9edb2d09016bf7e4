"""chainrule.nn.functional: activations, normalisations, layers and losses."""
from ._f_activation import *  # noqa: F401,F403
from ._f_norm import *  # noqa: F401,F403
from ._f_layers import *  # noqa: F401,F403
from ._f_loss import *  # noqa: F401,F403
from ._f_ctc import *  # noqa: F401,F403
from ..ops.extra import pdist  # noqa: F401,E402  (torch has it in both namespaces)
