"""A small expression parser for ``chainrule grad``: numbers, variables, + - * / ** (or ^),
unary minus, parentheses and a whitelist of functions. It builds a tree of tuples and evaluates
it with chainrule ops; nothing is ever handed to Python's ``eval``.

Grammar (loosest binding first)::

    expr  := term (('+' | '-') term)*
    term  := unary (('*' | '/') unary)*
    unary := ('-' | '+') unary | power
    power := atom (('**' | '^') unary)?          right-associative: 2**3**2 = 2**9
    atom  := NUMBER | NAME | NAME '(' expr (',' expr)* ')' | '(' expr ')'

As in Python, ``-x**2`` is ``-(x**2)`` and ``2**-1`` is ``0.5``.
"""
import math
import re

__all__ = ["ExprError", "parse", "variables", "evaluate", "FUNCTIONS", "CONSTANTS"]

# name -> (chainrule function name, number of arguments)
FUNCTIONS = {
    "sin": ("sin", 1), "cos": ("cos", 1), "tan": ("tan", 1), "exp": ("exp", 1),
    "log": ("log", 1), "sqrt": ("sqrt", 1), "tanh": ("tanh", 1), "sigmoid": ("sigmoid", 1),
    "relu": ("relu", 1), "abs": ("abs", 1), "pow": ("pow", 2), "max": ("maximum", 2),
    "min": ("minimum", 2),
}
CONSTANTS = {"pi": math.pi, "e": math.e}

_TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_]"
                    r"\w*)|(?P<op>\*\*|[-+*/^(),]))")


class ExprError(ValueError):
    """A malformed expression, an unknown function or a missing variable."""


def _tokenize(text):
    toks = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            bad = text[pos:].lstrip()[0]
            raise ExprError(f"unexpected character {bad!r} at position "
                            f"{len(text) - len(text[pos:].lstrip()) + 1}")
        kind = m.lastgroup
        val = m.group(kind)
        toks.append((kind, "**" if val == "^" else val, m.start(kind) + 1))
        pos = m.end()
    toks.append(("end", "", len(text) + 1))
    return toks


def _available(fname):
    import chainrule
    return hasattr(chainrule, FUNCTIONS[fname][0])


class _Parser:
    def __init__(self, text):
        self.toks = _tokenize(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i]

    def take(self):
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, val):
        kind, v, pos = self.take()
        if v != val:
            got = "the end" if kind == "end" else repr(v)
            raise ExprError(f"expected {val!r} at position {pos}, got {got}")

    def expr(self):
        node = self.term()
        while self.peek()[1] in ("+", "-") and self.peek()[0] == "op":
            op = self.take()[1]
            node = (op, node, self.term())
        return node

    def term(self):
        node = self.unary()
        while self.peek()[1] in ("*", "/") and self.peek()[0] == "op":
            op = self.take()[1]
            node = (op, node, self.unary())
        return node

    def unary(self):
        if self.peek()[0] == "op" and self.peek()[1] in ("-", "+"):
            op = self.take()[1]
            inner = self.unary()
            return ("neg", inner) if op == "-" else inner
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek()[0] == "op" and self.peek()[1] == "**":
            self.take()
            return ("**", base, self.unary())
        return base

    def atom(self):
        kind, val, pos = self.take()
        if kind == "num":
            return ("num", float(val))
        if kind == "name":
            if self.peek()[1] == "(" and self.peek()[0] == "op":
                if val not in FUNCTIONS or not _available(val):
                    known = ", ".join(f for f in sorted(FUNCTIONS) if _available(f))
                    raise ExprError(f"unknown function {val!r} at position {pos} (known: "
                                    f"{known})")
                self.take()
                args = [self.expr()]
                while self.peek()[1] == ",":
                    self.take()
                    args.append(self.expr())
                self.expect(")")
                n = FUNCTIONS[val][1]
                if len(args) != n:
                    raise ExprError(f"{val}() takes {n} argument{'s' if n > 1 else ''}, got "
                                    f"{len(args)}")
                return ("call", val, *args)
            if val in FUNCTIONS:
                raise ExprError(f"function {val!r} at position {pos} needs parentheses: "
                                f"{val}(...)")
            if val in CONSTANTS:
                return ("num", CONSTANTS[val])
            return ("var", val)
        if kind == "op" and val == "(":
            node = self.expr()
            self.expect(")")
            return node
        if kind == "end":
            raise ExprError("unexpected end of expression")
        raise ExprError(f"unexpected {val!r} at position {pos}")


def parse(text):
    """Parse ``text`` into a tree of tuples: ('num', v), ('var', name), ('neg', a),
    (op, a, b) for op in + - * / **, and ('call', fname, *args).

    >>> from chainrule._expr import parse
    >>> parse("5*x**2 + 3")
    ('+', ('*', ('num', 5.0), ('**', ('var', 'x'), ('num', 2.0))), ('num', 3.0))
    """
    if not isinstance(text, str) or not text.strip():
        raise ExprError("empty expression")
    p = _Parser(text)
    try:
        tree = p.expr()
    except RecursionError:
        raise ExprError("expression nested too deeply") from None
    kind, val, pos = p.peek()
    if kind != "end":
        hint = " (write multiplication explicitly, e.g. 5*x)" if kind in ("name", "num") or \
            val == "(" else ""
        raise ExprError(f"unexpected {val!r} at position {pos}{hint}")
    return tree


def variables(tree):
    """The variable names in ``tree``, in order of first appearance.

    >>> from chainrule._expr import parse, variables
    >>> variables(parse("x*y + sin(x)"))
    ['x', 'y']
    """
    out = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if node[0] == "var":
            if node[1] not in out:
                out.append(node[1])
        elif node[0] == "call":
            stack.extend(reversed(node[2:]))
        elif node[0] != "num":
            stack.extend(reversed(node[1:]))
    return out


def evaluate(tree, env):
    """Evaluate ``tree`` with chainrule ops; ``env`` maps variable names to tensors or numbers.

    >>> import chainrule
    >>> from chainrule._expr import parse, evaluate
    >>> evaluate(parse("5*x**2 + 3"), {"x": chainrule.tensor(2.0)})
    tensor(23.)
    """
    import numpy as np

    import chainrule
    binary = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
              "/": lambda a, b: a / b, "**": lambda a, b: a ** b}

    def apply(op, a, b):
        if isinstance(a, chainrule.Tensor) or isinstance(b, chainrule.Tensor):
            return binary[op](a, b)
        with np.errstate(all="ignore"):     # numbers alone: inf/nan, never an exception
            return float(binary[op](np.float64(a), np.float64(b)))

    def ev(node):
        kind = node[0]
        if kind == "num":
            return node[1]
        if kind == "var":
            if node[1] not in env:
                raise ExprError(f"no value for variable {node[1]!r} (give it with --at "
                                f"{node[1]}=...)")
            return env[node[1]]
        if kind == "neg":
            return -ev(node[1])
        if kind == "call":
            args = [ev(a) for a in node[2:]]
            args = [a if isinstance(a, chainrule.Tensor) else chainrule.tensor(float(a))
                    for a in args[:1]] + args[1:]
            return getattr(chainrule, FUNCTIONS[node[1]][0])(*args)
        return apply(kind, ev(node[1]), ev(node[2]))

    try:
        return ev(tree)
    except RecursionError:
        raise ExprError("expression nested too deeply") from None
