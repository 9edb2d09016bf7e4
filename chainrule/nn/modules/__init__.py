"""nn.Module and the layer modules (issue 5)."""
from . import (activation, container, conv, distance, dropout, flatten, lazy, linear, loss,
               module, normalization, padding, pixelshuffle, pooling, rnn, sparse, transformer)
from . import batchnorm, channelshuffle, fold, instancenorm, upsampling  # noqa: F401
from .module import Module
from .container import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .flatten import *  # noqa: F401,F403
from .lazy import LazyModuleMixin
from .activation import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .pixelshuffle import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .transformer import *  # noqa: F401,F403

__all__ = ["Module", "LazyModuleMixin"]
for _m in (container, linear, flatten, activation, conv, pooling, normalization, dropout,
           sparse, distance, loss, padding, pixelshuffle, rnn, transformer):
    __all__ += _m.__all__
del _m
