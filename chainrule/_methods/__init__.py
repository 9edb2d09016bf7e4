"""Tensor method groups, one mixin per part of the catalogue (Tensor inherits them all)."""
from .elementwise_ext import ElementwiseMethods
from .compat_ext import CompatMethods
from .extra_ext import ExtraMethods
from .index_ext import IndexMethods
from .linalg_ext import LinalgMethods
from .new_ext import NewMethods
from .nn_ext import NNMethods
from .random_ext import RandomMethods
from .reduce_ext import ReduceMethods
from .shape_ext import ShapeMethods

MIXINS = (ElementwiseMethods, ReduceMethods, ShapeMethods, IndexMethods, LinalgMethods, NewMethods,
          NNMethods, RandomMethods)
MIXINS += (ExtraMethods,)
MIXINS += (CompatMethods,)
