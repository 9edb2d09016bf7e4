"""``chainrule.backends.mps``: Apple's MPS backend is neither built nor available.

>>> import chainrule
>>> chainrule.backends.mps.is_available()
False
"""


def is_available():
    """False: chainrule has no MPS device.

    >>> import chainrule
    >>> chainrule.backends.mps.is_available()
    False
    """
    return False


def is_built():
    """False: chainrule is not built with MPS.

    >>> import chainrule
    >>> chainrule.backends.mps.is_built()
    False
    """
    return False
