"""chainrule.viz: see the chain rule. ``draw`` pictures the graph behind a tensor (forward
values in black, gradients in orange), ``explain`` prints each backward step as arithmetic,
``record`` captures what the pictures label (values, constants, per-edge gradients, modules).

>>> import chainrule
>>> x = chainrule.tensor(2.0, requires_grad=True)
>>> with chainrule.viz.record():
...     y = 5 * x ** 2 + 3
>>> chainrule.viz.explain(y)             # doctest: +ELLIPSIS
Forward:
  u1 = x ** 2 = 4
  ...
"""
from ._draw import Graph, GraphvizNotFound, dot_available, draw
from ._explain import explain
from ._record import record

__all__ = ["draw", "explain", "record", "Graph", "GraphvizNotFound", "dot_available"]
