"""Top-level torch names that training scripts call and that have nothing to compute in a
NumPy CPU library: ``compile`` (returns its argument; chainrule has no compiler), autocast
queries, the legacy ``set_default_tensor_type``, ``can_cast`` and the conjugation family for real
tensors (chainrule has no complex dtypes, so conjugation is the identity)."""
import warnings

from . import dtypes as _dt
from ._tensor import Tensor

__all__ = ["compile", "is_autocast_enabled", "is_autocast_cpu_enabled",
           "set_default_tensor_type", "can_cast", "is_conj", "is_neg", "resolve_conj",
           "resolve_neg", "conj", "conj_physical", "real", "imag"]

_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False):
    """Return ``model`` unchanged: **chainrule compiles nothing** (it has no graph compiler),
    so the result runs exactly as the original, eagerly, at the same speed.

    Provided so that scripts calling ``torch.compile`` run. Works as a plain call, as a bare
    decorator and as a decorator with arguments. Arguments are checked as torch checks them:
    ``mode`` and ``options`` together, or an unknown ``mode``, raise RuntimeError; a
    non-callable model raises AssertionError.

    >>> import chainrule
    >>> lin = chainrule.nn.Linear(2, 2)
    >>> chainrule.compile(lin) is lin
    True
    >>> @chainrule.compile(mode="max-autotune")
    ... def f(x):
    ...     return x * 2
    >>> f(chainrule.tensor(3.0))
    tensor(6.)
    """
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if model is None:
        def decorate(fn):
            return compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                           mode=mode, options=options, disable=disable)
        return decorate
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    return model


def is_autocast_enabled(device_type=None):
    """False: chainrule has no autocast (every op runs in its inputs' promoted dtype).

    >>> import chainrule
    >>> chainrule.is_autocast_enabled()
    False
    """
    if device_type is not None and not isinstance(device_type, str):
        raise TypeError("is_autocast_enabled(): argument 'device_type' must be str, not "
                        f"{type(device_type).__name__}")
    return False


def is_autocast_cpu_enabled():
    """False (deprecated in torch, which warns DeprecationWarning; use
    ``is_autocast_enabled('cpu')``).

    >>> import warnings, chainrule
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     chainrule.is_autocast_cpu_enabled()
    False
    """
    warnings.warn("torch.is_autocast_cpu_enabled() is deprecated. Please use "
                  "torch.is_autocast_enabled('cpu') instead.", DeprecationWarning, stacklevel=2)
    return False


_TENSOR_TYPES = {"FloatTensor": _dt.float32, "DoubleTensor": _dt.float64,
                 "HalfTensor": _dt.float16}
_NONFLOAT_TYPES = ("ByteTensor", "CharTensor", "ShortTensor", "IntTensor", "LongTensor",
                   "BoolTensor")


def set_default_tensor_type(t):
    """Legacy: set the default floating dtype from a tensor-type name ('torch.FloatTensor',
    'torch.DoubleTensor', 'torch.HalfTensor'; 'chainrule.' prefixes work too). Deprecated as in
    torch (UserWarning): use :func:`chainrule.set_default_dtype`.

    >>> import warnings, chainrule
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     chainrule.set_default_tensor_type("torch.DoubleTensor")
    >>> chainrule.get_default_dtype()
    chainrule.float64
    >>> chainrule.set_default_dtype(chainrule.float32)
    """
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
                  UserWarning, stacklevel=2)
    if not isinstance(t, str):
        raise TypeError("invalid type object: only floating-point types are supported as the "
                        "default type")
    mod, _, name = t.rpartition(".")
    if mod in ("torch.cuda", "chainrule.cuda"):
        raise TypeError(f"type {t} not available. Torch not compiled with CUDA enabled.")
    if mod not in ("torch", "chainrule") or (name not in _TENSOR_TYPES
                                             and name not in _NONFLOAT_TYPES):
        raise AttributeError(f"module '{mod or t}' has no attribute '{name}'")
    if name not in _TENSOR_TYPES:
        raise TypeError("only floating-point types are supported as the default type")
    _dt.set_default_dtype(_TENSOR_TYPES[name])


def can_cast(from_, to):
    """Whether torch's type promotion allows casting ``from_`` to ``to``: never to a lower
    category (floating -> integer, integer or floating -> bool); within a category, always.

    >>> import chainrule
    >>> chainrule.can_cast(chainrule.float64, chainrule.int32)
    False
    >>> chainrule.can_cast(chainrule.int64, chainrule.uint8)
    True
    """
    for arg, pos, val in (("from_", 1, from_), ("to", 2, to)):
        if not isinstance(val, _dt.dtype):
            raise TypeError(f"can_cast(): argument '{arg}' (position {pos}) must be "
                            f"torch.dtype, not {type(val).__name__}")
    return from_._cat <= to._cat


def _tensor_arg(name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}")


def _identity(name, doc):
    def fn(input):
        _tensor_arg(name, input)
        return input
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _flag(name, doc):
    def fn(input):
        _tensor_arg(name, input)
        return False
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


_REAL = "chainrule has only real dtypes, so"
is_conj = _flag("is_conj", f"""False: {_REAL} no tensor carries a lazy conjugation bit.

    >>> import chainrule
    >>> chainrule.is_conj(chainrule.ones(2))
    False
    """)
is_neg = _flag("is_neg", f"""False: {_REAL} no tensor carries a lazy negation bit.

    >>> import chainrule
    >>> chainrule.is_neg(chainrule.ones(2))
    False
    """)
resolve_conj = _identity("resolve_conj", f"""The input itself: {_REAL} there is no conjugation
    to materialise.

    >>> import chainrule
    >>> x = chainrule.ones(2)
    >>> chainrule.resolve_conj(x) is x
    True
    """)
resolve_neg = _identity("resolve_neg", f"""The input itself: {_REAL} there is no lazy negation
    to materialise.

    >>> import chainrule
    >>> x = chainrule.ones(2)
    >>> chainrule.resolve_neg(x) is x
    True
    """)
conj = _identity("conj", f"""The input itself: {_REAL} the complex conjugate of a tensor is the
    tensor (torch also returns the same object for real inputs).

    >>> import chainrule
    >>> x = chainrule.tensor([1.0, -2.0])
    >>> chainrule.conj(x) is x
    True
    """)
conj_physical = _identity("conj_physical", f"""The input itself: {_REAL} conjugation is the
    identity (torch returns the same object for real inputs).

    >>> import chainrule
    >>> x = chainrule.tensor([1.0, -2.0])
    >>> chainrule.conj_physical(x) is x
    True
    """)
real = _identity("real", f"""The input itself: {_REAL} a tensor is its own real part.

    >>> import chainrule
    >>> x = chainrule.tensor([1.0, -2.0])
    >>> chainrule.real(x) is x
    True
    """)


def imag(input):
    """Raise RuntimeError as torch does for a real tensor: chainrule has only real dtypes, which
    have no imaginary part.

    >>> import chainrule
    >>> chainrule.imag(chainrule.ones(1))
    Traceback (most recent call last):
    RuntimeError: imag is not implemented for tensors with non-complex dtypes.
    """
    _tensor_arg("imag", input)
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")

