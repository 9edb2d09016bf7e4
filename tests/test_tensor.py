"""Tensor basics: attributes, conversion, printing, dtypes and promotion, creation, random."""
import itertools

import numpy as np
import pytest

import chainrule as cr
from conftest import HAVE_TORCH, needs_torch

if HAVE_TORCH:
    import torch


def test_attributes():
    x = cr.ones(2, 3, requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2 and x.numel() == 6
    assert x.size() == cr.Size([2, 3]) and x.size(-1) == 3
    assert x.dtype is cr.float32 and x.device == cr.device("cpu") and str(x.device) == "cpu"
    assert x.is_leaf and x.grad is None and x.grad_fn is None
    assert x.T.shape == (3, 2) and x.mT.shape == (3, 2)
    d = x.data
    assert not d.requires_grad and np.shares_memory(d.numpy(), x.detach().numpy())
    y = x * 2
    assert not y.is_leaf and y.grad_fn.name() == "MulBackward0"


def test_conversions_and_protocol():
    x = cr.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert x.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert np.asarray(x).dtype == np.float32
    assert len(x) == 2 and [r.tolist() for r in x] == [[1.5, 2.0], [3.0, 4.0]]
    assert float(cr.tensor([2.5])) == 2.5 and int(cr.tensor(3)) == 3
    assert bool(cr.tensor([1])) is True
    assert [10, 20, 30][cr.tensor(1)] == 20
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    with pytest.raises(RuntimeError, match="4 elements"):
        float(x)
    with pytest.raises(TypeError, match="integer tensors"):
        [1, 2][cr.tensor(1.0)]
    with pytest.raises(TypeError, match="0-d"):
        len(cr.tensor(1.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(cr.tensor(1.0))
    assert x.double().dtype is cr.float64 and x.long().dtype is cr.int64
    assert x.half().dtype is cr.float16 and x.int().dtype is cr.int32
    assert x.bool().dtype is cr.bool and x.float() is x
    assert x.to(cr.float64).dtype is cr.float64 and x.to("cpu") is x
    assert x.to(cr.zeros(1, dtype=cr.int64)).dtype is cr.int64
    with pytest.raises(RuntimeError, match="cuda"):
        x.to("cuda")
    with pytest.raises(RuntimeError, match="requires grad"):
        cr.ones(1, requires_grad=True).numpy()


def test_item_and_clone_detach():
    x = cr.tensor([3.0], requires_grad=True)
    assert x.item() == 3.0
    c = x.clone()
    assert c.grad_fn.name() == "CloneBackward0"
    d = x.detach()
    assert not d.requires_grad
    d.add_(1)
    assert x.item() == 4.0  # shares memory


@pytest.mark.parametrize("expr", [
    "tensor([1., 2.], requires_grad=True)",
    "tensor(3.5000)",
    "tensor([0.5000, 1.2500])",
    "tensor([[1, 2],\n        [3, 4]])",
    "tensor([ True, False])",
    "tensor([1., 2.], dtype={m}.float64)",
    "tensor([1, 2], dtype={m}.int32)",
    "tensor([1.0000e-05, 1.0000e+02])",
    "tensor([], size=(0, 3))",
    "tensor([])",
])
def test_repr_matches_torch_format(expr):
    build = {
        "tensor([1., 2.], requires_grad=True)": lambda m: m.tensor([1., 2.],
                                                                   requires_grad=True),
        "tensor(3.5000)": lambda m: m.tensor(3.5),
        "tensor([0.5000, 1.2500])": lambda m: m.tensor([0.5, 1.25]),
        "tensor([[1, 2],\n        [3, 4]])": lambda m: m.tensor([[1, 2], [3, 4]]),
        "tensor([ True, False])": lambda m: m.tensor([True, False]),
        "tensor([1., 2.], dtype={m}.float64)": lambda m: m.tensor([1., 2.], dtype=m.float64),
        "tensor([1, 2], dtype={m}.int32)": lambda m: m.tensor([1, 2], dtype=m.int32),
        "tensor([1.0000e-05, 1.0000e+02])": lambda m: m.tensor([1e-5, 100.0]),
        "tensor([], size=(0, 3))": lambda m: m.zeros(0, 3),
        "tensor([])": lambda m: m.zeros(0),
    }[expr]
    assert repr(build(cr)) == expr.format(m="chainrule")
    if HAVE_TORCH:
        assert repr(build(torch)) == expr.format(m="torch")


def test_repr_grad_fn_and_big():
    x = cr.ones(2, requires_grad=True)
    assert repr(x * 2) == "tensor([2., 2.], grad_fn=<MulBackward0>)"
    s = repr(cr.arange(2000))
    assert "..." in s and s.startswith("tensor([   0,    1,    2,")


@needs_torch
def test_repr_parity_random_shapes():
    rng = np.random.default_rng(0)
    for shape in [(3,), (2, 3), (2, 2, 2), (1, 5), (12,), (30,)]:
        a = rng.standard_normal(shape).astype(np.float32)
        assert repr(cr.tensor(a)) == repr(torch.tensor(a))
        b = rng.integers(-50, 50, shape)
        assert repr(cr.tensor(b)) == repr(torch.tensor(b))


DTS = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


@needs_torch
def test_promotion_table_matches_torch():
    for a, b in itertools.product(DTS, DTS):
        ca = cr.promote_types(getattr(cr, a), getattr(cr, b))
        ta = torch.promote_types(getattr(torch, a), getattr(torch, b))
        assert ca.name == str(ta).split(".")[1], (a, b)


@needs_torch
@pytest.mark.parametrize("a,b", [("int64", 2.5), ("int32", 3), ("float16", 2.0),
                                 ("bool", 1), ("bool", True), ("uint8", -1.5),
                                 ("float32", "0d64"), ("int32", "0dfloat"), ("int8", "int16"),
                                 ("float32", "float64"), ("uint8", "int8")])
def test_binary_result_dtype_matches_torch(a, b):
    def make(m, spec):
        if isinstance(spec, str):
            if spec == "0d64":
                return m.tensor(1.5, dtype=m.float64)
            if spec == "0dfloat":
                return m.tensor(1.5)
            return m.ones(3, dtype=getattr(m, spec))
        return spec
    for op in (lambda x, y: x + y, lambda x, y: x * y, lambda x, y: x / y):
        rc = op(cr.ones(3, dtype=getattr(cr, a)), make(cr, b))
        rt = op(torch.ones(3, dtype=getattr(torch, a)), make(torch, b))
        assert rc.dtype.name == str(rt.dtype).split(".")[1]


def test_default_dtype():
    assert cr.tensor([1.0]).dtype is cr.float32 and cr.tensor([1]).dtype is cr.int64
    assert (cr.tensor([1, 2]) / 2).dtype is cr.float32
    cr.set_default_dtype(cr.float64)
    assert cr.tensor([1.0]).dtype is cr.float64 and cr.ones(1).dtype is cr.float64
    cr.set_default_dtype(cr.float32)
    with pytest.raises(TypeError):
        cr.set_default_dtype(cr.int64)


@needs_torch
def test_creation_matches_torch():
    for name, args, kw in [("zeros", (2, 3), {}), ("ones", ((4,),), {}),
                           ("full", ((2,), 7), {}), ("full", ((2,), 1.5), {}),
                           ("arange", (5,), {}), ("arange", (1, 2, 0.25), {}),
                           ("arange", (0, 10, 3), {"dtype": "float64"}),
                           ("linspace", (0, 1, 5), {}), ("logspace", (0, 2, 3), {}),
                           ("eye", (3,), {}), ("eye", (2, 3), {})]:
        ck = {k: getattr(cr, v) for k, v in kw.items()}
        tk = {k: getattr(torch, v) for k, v in kw.items()}
        c = getattr(cr, name)(*args, **ck)
        t = getattr(torch, name)(*args, **tk)
        assert c.dtype.name == str(t.dtype).split(".")[1], name
        np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-6)
    x = cr.tensor([[1, 2]])
    assert cr.zeros_like(x).dtype is cr.int64 and cr.ones_like(x, dtype=cr.float64).dtype \
        is cr.float64
    assert cr.full_like(x, 3).tolist() == [[3, 3]] and cr.empty_like(x).shape == (1, 2)


def test_from_numpy_shares_and_as_tensor():
    a = np.arange(3.0)
    t = cr.from_numpy(a)
    a[0] = 9
    assert t[0].item() == 9 and t.dtype is cr.float64
    assert cr.as_tensor(a).numpy() is a
    with pytest.raises(TypeError):
        cr.from_numpy(np.array(["a"]))
    with pytest.raises(RuntimeError, match="negative dimension"):
        cr.zeros(-1)
    with pytest.raises(RuntimeError):
        cr.ones(2, device="cuda")
    assert cr.ones(2, device=cr.device("cpu")).device == cr.device("cpu")


def test_random_seeding_and_generators():
    cr.manual_seed(123)
    a = cr.randn(5)
    cr.manual_seed(123)
    assert cr.equal(a, cr.randn(5))
    g = cr.Generator().manual_seed(7)
    b = cr.rand(3, generator=g)
    g.manual_seed(7)
    assert cr.equal(b, cr.rand(3, generator=g))
    assert ((b >= 0) & (b < 1)).all() if hasattr(b, "all") else True
    r = cr.randint(0, 5, (100,))
    assert r.dtype is cr.int64 and r.min().item() >= 0 and r.max().item() < 5
    assert sorted(cr.randperm(6).tolist()) == list(range(6))
    n = cr.normal(cr.zeros(10000), 2.0)
    assert abs(float(n.std_() if hasattr(n, "std_") else n.numpy().std()) - 2.0) < 0.1
    p = cr.tensor([0.0, 1.0, 0.0])
    assert cr.multinomial(p, 3, replacement=True).tolist() == [1, 1, 1]
    w = cr.tensor([[1.0, 2.0, 3.0, 4.0]])
    s = cr.multinomial(w, 4)
    assert sorted(s[0].tolist()) == [0, 1, 2, 3]
    assert cr.bernoulli(cr.zeros(4)).tolist() == [0, 0, 0, 0]
    state = cr.get_rng_state()
    x1 = cr.rand(2)
    cr.set_rng_state(state)
    assert cr.equal(x1, cr.rand(2))
    with pytest.raises(RuntimeError):
        cr.multinomial(cr.tensor([1.0, 2.0]), 3)
    with pytest.raises(RuntimeError):
        cr.randint(5, 5, (2,))


def test_requires_grad_rules():
    x = cr.ones(2)
    assert x.requires_grad_() is x and x.requires_grad
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError, match="floating point"):
        cr.tensor([1]).requires_grad_()
    x.requires_grad = False
    assert not (x * 2).requires_grad
