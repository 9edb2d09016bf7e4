"""``chainrule.backends.opt_einsum``: torch's switch for the opt_einsum contraction-order
package. chainrule's einsum always lets NumPy choose the contraction order, so these flags are
reported as torch would (available when the package is installed) but steer nothing.

>>> import chainrule
>>> chainrule.backends.opt_einsum.enabled == chainrule.backends.opt_einsum.is_available()
True
"""
import importlib.util

# torch's defaults: on, with the "auto" strategy, when the package is installed
enabled = importlib.util.find_spec("opt_einsum") is not None
strategy = "auto" if enabled else None


def is_available():
    """True if the ``opt_einsum`` package is installed (as torch reports it).

    >>> import chainrule
    >>> isinstance(chainrule.backends.opt_einsum.is_available(), bool)
    True
    """
    return importlib.util.find_spec("opt_einsum") is not None


def get_opt_einsum():
    """The ``opt_einsum`` module if installed, else None.

    >>> import chainrule
    >>> m = chainrule.backends.opt_einsum.get_opt_einsum()
    """
    if not is_available():
        return None
    import opt_einsum
    return opt_einsum
