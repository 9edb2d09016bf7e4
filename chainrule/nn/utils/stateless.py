"""nn.utils.stateless.functional_call: the deprecated spelling of func.functional_call."""
import warnings

__all__ = ["functional_call"]


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """Deprecated: use ``chainrule.func.functional_call`` (same arguments).

    >>> import chainrule, warnings
    >>> m = chainrule.nn.Linear(2, 1)
    >>> p = {"weight": chainrule.ones(1, 2), "bias": chainrule.zeros(1)}
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     chainrule.nn.utils.stateless.functional_call(m, p, (chainrule.ones(1, 2),))
    tensor([[2.]])
    """
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 "
                  "and will be removed in a future version of PyTorch. Please use "
                  "`torch.func.functional_call` instead which is a drop-in replacement.",
                  FutureWarning, stacklevel=2)
    from ...func import functional_call as call
    return call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights,
                strict=strict)
