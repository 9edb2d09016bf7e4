"""A minimal pytree: tuples, lists, dicts and namedtuples are nodes; anything else is a leaf."""


class Spec:
    __slots__ = ("kind", "meta", "children")

    def __init__(self, kind, meta=None, children=()):
        self.kind, self.meta, self.children = kind, meta, children

    def __eq__(self, other):
        return (isinstance(other, Spec) and self.kind == other.kind and
                self.meta == other.meta and self.children == other.children)

    def __repr__(self):
        if self.kind == "leaf":
            return "*"
        return f"{self.kind}({', '.join(map(repr, self.children))})"

    @property
    def num_leaves(self):
        if self.kind == "leaf":
            return 1
        return sum(c.num_leaves for c in self.children)


LEAF = Spec("leaf")


def tree_flatten(tree):
    leaves = []
    return leaves, _flatten(tree, leaves)


def _flatten(t, leaves):
    if isinstance(t, tuple) and hasattr(t, "_fields"):
        return Spec("namedtuple", type(t), tuple(_flatten(x, leaves) for x in t))
    if isinstance(t, (tuple, list)):
        return Spec(type(t).__name__, None, tuple(_flatten(x, leaves) for x in t))
    if isinstance(t, dict):
        keys = tuple(t.keys())
        return Spec("dict", keys, tuple(_flatten(t[k], leaves) for k in keys))
    leaves.append(t)
    return LEAF


def tree_unflatten(leaves, spec):
    it = iter(leaves)
    return _build(spec, it)


def _build(spec, it):
    if spec.kind == "leaf":
        return next(it)
    kids = [_build(c, it) for c in spec.children]
    if spec.kind == "namedtuple":
        return spec.meta(*kids)
    if spec.kind == "tuple":
        return tuple(kids)
    if spec.kind == "list":
        return kids
    return dict(zip(spec.meta, kids))


def tree_map(fn, tree):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)
