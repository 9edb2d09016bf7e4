"""Table-driven gradient tests: gradcheck and gradgradcheck in float64 for every sample of
every op, torch parity (float64 and float32) when torch is installed, bad-input checks, and a
coverage check that every primitive is reached by some sample."""
import inspect

import numpy as np
import pytest

import chainrule
from chainrule.autograd.function import Op
from conftest import HAVE_TORCH, needs_torch, to_np
from optable import all_ops
from optable.spec import build, kinds_of

OPS = all_ops()
SAMPLES = [(op, i) for op in OPS for i in range(len(op.samples))]
IDS = [f"{op.name}-{i}" for op, i in SAMPLES]
KINDS = ("0d", "odd", "broadcast", "T")


def _outs(res):
    res = res if isinstance(res, (tuple, list)) else (res,)
    return [r for r in res if hasattr(r, "requires_grad")]


def _seed(op, i):
    return (sum(map(ord, op.name)) * 7919 + i) % (2 ** 31)


def test_table_is_not_empty():
    assert len(OPS) > 20


@pytest.mark.parametrize("op", OPS, ids=[o.name for o in OPS])
def test_every_op_covers_the_case_kinds(op):
    assert len(op.samples) >= 4 or set(op.skip_kinds) >= set(KINDS) - set().union(
        *[kinds_of(s) for s in op.samples]), f"{op.name}: fewer than 4 samples"
    covered = set().union(*[kinds_of(s) for s in op.samples]) if op.samples else set()
    missing = set(KINDS) - covered - set(op.skip_kinds)
    assert not missing, f"{op.name} has no sample of kind {sorted(missing)}"
    for k, why in op.skip_kinds.items():
        assert k in KINDS and isinstance(why, str) and why, "skip_kinds needs a reason"


@pytest.mark.parametrize("op,i", SAMPLES, ids=IDS)
def test_gradcheck(op, i):
    if not op.grad:
        pytest.skip(f"{op.name} is not differentiable")
    leaves, to_args = build(chainrule, op.samples[i], _seed(op, i))
    if not leaves:
        pytest.skip("no differentiable input in this sample")
    assert chainrule.autograd.gradcheck(lambda *ls: op.fn(chainrule, *to_args(*ls)), leaves,
                                        eps=op.eps, atol=op.atol, rtol=op.rtol)


@pytest.mark.parametrize("op,i", SAMPLES, ids=IDS)
def test_gradgradcheck(op, i):
    if not (op.grad and op.gradgrad):
        pytest.skip(f"{op.name}: no second derivative in the table")
    leaves, to_args = build(chainrule, op.samples[i], _seed(op, i))
    if not leaves:
        pytest.skip("no differentiable input in this sample")
    assert chainrule.autograd.gradgradcheck(lambda *ls: op.fn(chainrule, *to_args(*ls)),
                                            leaves, eps=op.eps, atol=op.atol, rtol=op.rtol)


def _run(lib, op, i, dtype_name):
    fn = op.fn if lib is chainrule else op.torch_fn
    leaves, to_args = build(lib, op.samples[i], _seed(op, i), dtype_name)
    out = _outs(fn(lib, *to_args(*leaves)))
    grads = []
    diff = [o for o in out if o.requires_grad]
    if leaves and diff and op.grad:
        rng = np.random.default_rng(1)
        total = 0
        for o in diff:
            w = lib.tensor(rng.uniform(0.5, 1.5, tuple(o.shape)).astype(dtype_name))
            total = total + (o * w).sum()
        grads = lib.autograd.grad(total, leaves, allow_unused=True)
    return [to_np(o) for o in out], [to_np(g) for g in grads]


@needs_torch
@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
@pytest.mark.parametrize("op,i", SAMPLES, ids=IDS)
def test_torch_parity(op, i, dtype_name):
    import torch
    if not op.parity:
        pytest.skip(f"{op.name}: no torch counterpart to compare with")
    if op.nondeterministic:
        pytest.skip(f"{op.name} is random")
    atol, rtol = (1e-10, 1e-7) if dtype_name == "float64" else op.f32_tol
    o1, g1 = _run(chainrule, op, i, dtype_name)
    o2, g2 = _run(torch, op, i, dtype_name)
    assert len(o1) == len(o2)
    for a, b in zip(o1, o2):
        assert a.shape == b.shape, f"{op.name}: shape {a.shape} vs torch {b.shape}"
        if a.dtype.kind in "biu" or b.dtype.kind in "biu":
            assert a.dtype == b.dtype, f"{op.name}: dtype {a.dtype} vs torch {b.dtype}"
            np.testing.assert_array_equal(a, b)
        else:
            assert a.dtype == b.dtype, f"{op.name}: dtype {a.dtype} vs torch {b.dtype}"
            np.testing.assert_allclose(a, b, atol=atol, rtol=rtol, equal_nan=True)
    for a, b in zip(g1, g2):
        if b is None:
            assert a is None or not np.any(a), f"{op.name}: torch gives no gradient"
            continue
        assert a is not None, f"{op.name}: missing gradient"
        np.testing.assert_allclose(a, b, atol=atol * 10, rtol=rtol * 10, equal_nan=True)


def test_every_op_has_a_bad_input_case():
    names = {op.name: op for op in OPS}
    lacking = [op.name for op in OPS if not op.bad and not (
        op.bad_see in names and names[op.bad_see].bad)]
    assert not lacking, f"ops without an invalid-call case: {lacking}"


BADS = [(op, k) for op in OPS for k in range(len(op.bad))]


@pytest.mark.parametrize("op,k", BADS, ids=[f"{op.name}-bad{k}" for op, k in BADS])
def test_bad_input(op, k):
    bad = op.bad[k]
    leaves, to_args = build(chainrule, bad.sample, 5)
    args = to_args(*leaves)
    before = [to_np(a).copy() for a in args if isinstance(a, chainrule.Tensor)]
    with pytest.raises(Exception) as ei:
        bad.fn(chainrule, *args)
    after = [to_np(a) for a in args if isinstance(a, chainrule.Tensor)]
    for x, y in zip(before, after):
        np.testing.assert_array_equal(x, y)
    if bad.exc is not None:
        assert isinstance(ei.value, bad.exc), f"{op.name}: raised {type(ei.value).__name__}"
    assert str(ei.value), "the error must say what went wrong"
    if HAVE_TORCH:
        import torch
        tl, tt = build(torch, bad.sample, 5)
        with pytest.raises(Exception) as te:
            bad.fn(torch, *tt(*tl))
        assert isinstance(ei.value, type(te.value)) or isinstance(te.value, type(ei.value)), (
            f"{op.name}: chainrule raised {type(ei.value).__name__}, torch "
            f"{type(te.value).__name__}: {te.value}")


def _primitives():
    import chainrule.ops as ops_pkg
    import pkgutil
    import importlib
    mods = [importlib.import_module(f"chainrule.ops.{m.name}")
            for m in pkgutil.iter_modules(ops_pkg.__path__)]
    extra = []
    for name in ("chainrule.functional_ops", "chainrule.nn.functional"):
        try:
            extra.append(importlib.import_module(name))
        except ImportError:
            pass
    found = set()
    for m in mods + extra:
        for _, c in inspect.getmembers(m, inspect.isclass):
            if issubclass(c, Op) and c is not Op and c.differentiable and \
                    c.__module__ == m.__name__:
                found.add(c)
    return found


def _walk(roots, seen):
    stack = [r.grad_fn for r in roots if getattr(r, "grad_fn", None) is not None]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        stack.extend(e[0] for e in n._next if e is not None)


def test_every_primitive_has_samples():
    """A primitive that no table sample reaches (in forward or in a double backward) fails."""
    reached = set()
    for op in OPS:
        if not op.grad:
            continue
        for i in range(len(op.samples)):
            leaves, to_args = build(chainrule, op.samples[i], _seed(op, i))
            if not leaves:
                continue
            outs = [o for o in _outs(op.fn(chainrule, *to_args(*leaves))) if o.requires_grad]
            nodes = set()
            _walk(outs, nodes)
            if outs:
                gs = chainrule.autograd.grad([o.sum() for o in outs], leaves, create_graph=True,
                                             allow_unused=True)
                _walk([g for g in gs if g is not None], nodes)
            reached |= {type(n) for n in nodes}
    missing = sorted(c.__name__ for c in _primitives() - reached)
    assert not missing, f"primitives without table samples: {missing}"
