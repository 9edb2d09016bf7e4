"""``chainrule.backends.cpu``: the CPU's vector-instruction level.

>>> import chainrule
>>> chainrule.backends.cpu.get_cpu_capability() in ("DEFAULT", "AVX2", "AVX512", "ZVECTOR",
...                                                  "VSX", "SVE256")
True
"""


def get_cpu_capability():
    """The widest SIMD level of this CPU that torch's kernels would pick, as torch names it
    ('AVX512', 'AVX2' or 'DEFAULT' on x86), read from NumPy's CPU feature detection.

    >>> import chainrule
    >>> isinstance(chainrule.backends.cpu.get_cpu_capability(), str)
    True
    """
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as feats
    except ImportError:     # NumPy < 2
        from numpy.core._multiarray_umath import __cpu_features__ as feats
    if all(feats.get(f) for f in ("AVX512F", "AVX512BW", "AVX512VL", "AVX512DQ", "FMA3")):
        return "AVX512"
    if feats.get("AVX2") and feats.get("FMA3"):
        return "AVX2"
    return "DEFAULT"
