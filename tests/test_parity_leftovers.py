"""torch 2.13 parity leftovers: optimizer state loading, LBFGS state types, mixed-dtype norms,
sdpa's mask + is_causal, max_unpool."""
import warnings

import numpy as np
import pytest

import chainrule
from conftest import needs_torch

try:
    import torch
except Exception:  # pragma: no cover
    torch = None

_OPTIMS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
           "LBFGS", "ASGD", "Rprop", "Adafactor"]


def _state_kinds(m, state, src):
    """Per key: 'alias' for a tensor shared with src, its dtype for a fresh tensor, else type."""
    out = {}
    for k, v in state.items():
        if isinstance(v, m.Tensor):
            out[k] = "alias" if v is src[k] else str(v.dtype).split(".")[1]
        elif isinstance(v, list):
            out[k] = [("alias" if x is y else "copy") if isinstance(x, m.Tensor)
                      else type(x).__name__ for x, y in zip(v, src[k])]
        else:
            out[k] = type(v).__name__
    return out


def _stepped(m, name, p, **kw):
    opt = getattr(m.optim, name)([p], lr=0.1, **kw)

    def closure():
        opt.zero_grad()
        loss = ((p - 0.5) ** 4).sum() + (p * p).sum()
        loss.backward()
        return loss
    for _ in range(3):
        opt.step(closure)
    return opt


@needs_torch
@pytest.mark.parametrize("name", _OPTIMS)
@pytest.mark.parametrize("double", [False, True])
def test_load_state_dict_aliases_like_torch(name, double):
    seen = []
    for m in (chainrule, torch):
        p = m.tensor([1.5, -0.5, 2.0], requires_grad=True)
        kw = {"momentum": 0.9} if name == "SGD" else {}
        sd = _stepped(m, name, p, **kw).state_dict()
        if double:  # float state in another dtype is cast to the param's dtype (a copy)
            st = sd["state"][0]
            for k in list(st):
                if isinstance(st[k], m.Tensor) and st[k].is_floating_point():
                    st[k] = st[k].double()
        b = getattr(m.optim, name)([p], lr=0.1, **kw)
        b.load_state_dict(sd)
        seen.append(_state_kinds(m, b.state[p], sd["state"][0]))
    assert seen[0] == seen[1]


@needs_torch
def test_load_state_dict_casts_integer_state_but_not_step():
    seen = []
    for m in (chainrule, torch):
        p = m.ones(2, requires_grad=True)
        a = _stepped(m, "Adam", p)
        sd = a.state_dict()
        sd["state"][0]["step"] = m.tensor(3)
        sd["state"][0]["extra"] = m.tensor([1, 2])
        b = m.optim.Adam([p], lr=0.1)
        b.load_state_dict(sd)
        st = b.state[p]
        seen.append((str(st["step"].dtype).split(".")[1], str(st["extra"].dtype).split(".")[1],
                     st["step"] is sd["state"][0]["step"]))
    assert seen[0] == seen[1]


@needs_torch
@pytest.mark.parametrize("kw", [dict(max_iter=3, history_size=2), dict(max_iter=1),
                                dict(max_iter=4, line_search_fn="strong_wolfe")])
def test_lbfgs_state_types_like_torch(kw):
    seen = []
    for m in (chainrule, torch):
        p = m.tensor([1.5, -0.5, 2.0], requires_grad=True)
        opt = _stepped(m, "LBFGS", p, **kw)
        st = opt.state_dict()["state"][0]

        def kind(v):
            if isinstance(v, list):
                return [kind(x) for x in v]
            if isinstance(v, m.Tensor):
                return ("tensor", str(v.dtype).split(".")[1], tuple(v.shape))
            return type(v).__name__
        seen.append(({k: kind(v) for k, v in st.items()}, p.detach().numpy().copy(),
                     float(st["H_diag"])))
    assert seen[0][0] == seen[1][0]
    np.testing.assert_allclose(seen[0][1], seen[1][1], rtol=1e-5, atol=1e-6)
    assert seen[0][2] == pytest.approx(seen[1][2], rel=1e-4)


def _norm_call(m, name, x, w, b, stats):
    F = m.nn.functional
    if name == "layer_norm":
        return F.layer_norm(x.transpose(1, 2), (4,), w, b)
    if name == "group_norm":
        return F.group_norm(x, 2, w, b)
    if name == "rms_norm":
        return F.rms_norm(x.transpose(1, 2), (4,), w)
    if name == "instance_norm":
        return F.instance_norm(x, *stats, weight=w, bias=b)
    return F.batch_norm(x, *stats, w, b, training=name == "batch_norm_train")


_NORMS = ["layer_norm", "group_norm", "rms_norm", "batch_norm", "batch_norm_train",
          "instance_norm"]
_DTYPES = [("float16", "float32"), ("float32", "float16"), ("float32", "float64"),
           ("float64", "float32"), ("float16", "float64"), ("float16", "float16")]


@needs_torch
@pytest.mark.parametrize("name", _NORMS)
@pytest.mark.parametrize("xd,pd", _DTYPES)
def test_norm_mixed_dtypes_like_torch(name, xd, pd):
    rng = np.random.default_rng(0)
    base, cot = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 3)).astype("f4")
    if name in ("layer_norm", "rms_norm"):
        cot = cot.transpose(0, 2, 1).copy()
    seen = []
    for m in (chainrule, torch):
        x = m.tensor(base, dtype=getattr(m, xd), requires_grad=True)
        w = m.linspace(0.5, 1.5, 4, dtype=getattr(m, pd), requires_grad=True)
        b = m.linspace(-0.2, 0.2, 4, dtype=getattr(m, pd), requires_grad=True)
        stats = (m.full((4,), 0.1, dtype=getattr(m, pd)), m.full((4,), 2.0, dtype=getattr(m, pd)))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch's rms_norm: "Mismatch dtype" notice
                out = _norm_call(m, name, x, w, b, stats)
        except RuntimeError:
            seen.append("RuntimeError")
            continue
        (out.float() * m.tensor(cot)).sum().backward()
        seen.append((str(out.dtype).split(".")[1], str(x.grad.dtype).split(".")[1],
                     out.detach().double().numpy(), x.grad.double().numpy(),
                     stats[0].double().numpy()))
    if seen[0] == "RuntimeError" or seen[1] == "RuntimeError":
        assert seen[0] == seen[1]
        return
    assert seen[0][:2] == seen[1][:2]
    tol = 1e-2 if "float16" in (xd, pd) else 1e-5
    for a, b in zip(seen[0][2:], seen[1][2:]):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)



@needs_torch
@pytest.mark.parametrize("kind", ["bool", "float", "bool_bcast", "float_batched"])
def test_sdpa_mask_and_is_causal_like_torch(kind):
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal(s) for s in ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4)))
    bm = rng.random((3, 5)) > 0.3
    bm[:, 0] = True
    mask = {"bool": bm, "float": rng.standard_normal((3, 5)), "bool_bcast": bm[None, None],
            "float_batched": rng.standard_normal((2, 1, 3, 5))}[kind]
    res = []
    for m in (chainrule, torch):
        qt, kt, vt = (m.tensor(a, requires_grad=True) for a in (q, k, v))
        out = m.nn.functional.scaled_dot_product_attention(qt, kt, vt, attn_mask=m.tensor(mask),
                                                            is_causal=True)
        out.sum().backward()
        res.append([out.detach().numpy()] + [t.grad.numpy() for t in (qt, kt, vt)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


_SDPA_SHAPES = {  # (q, k, v, mask, kwargs): torch combines the pair only on its fused kernel
    "4d": ((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4), (3, 5), {}),
    "4d_mask4d": ((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4), (1, 2, 3, 5), {}),
    "gqa": ((1, 4, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4), (3, 5), {"enable_gqa": True}),
    "gqa_off": ((1, 4, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4), (3, 5), {}),
    "value_dim": ((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 2), (3, 5), {}),
    "dropout": ((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4), (3, 5), {"dropout_p": 0.5}),
    "batch_bcast": ((2, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4), (3, 5), {}),
    "mask3d": ((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4), (2, 3, 5), {}),
    "mask1d": ((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4), (5,), {}),
    "3d": ((2, 3, 4), (2, 5, 4), (2, 5, 4), (3, 5), {}),
    "2d": ((3, 4), (5, 4), (5, 4), (3, 5), {}),
}


@needs_torch
@pytest.mark.parametrize("case", list(_SDPA_SHAPES))
@pytest.mark.parametrize("bool_mask", [False, True])
def test_sdpa_mask_and_is_causal_raises_like_torch(case, bool_mask):
    qs, ks, vs, ms, kw = _SDPA_SHAPES[case]
    rng = np.random.default_rng(2)
    arrs = [rng.standard_normal(s) for s in (qs, ks, vs)]
    mask = rng.random(ms) > 0.2 if bool_mask else rng.standard_normal(ms)
    res = []
    for m in (chainrule, torch):
        try:
            out = m.nn.functional.scaled_dot_product_attention(
                *(m.tensor(a) for a in arrs), attn_mask=m.tensor(mask), is_causal=True, **kw)
            res.append(out.numpy() if kw.get("dropout_p", 0) == 0 else "ok")
        except (RuntimeError, IndexError) as e:
            res.append(type(e).__name__)
    if isinstance(res[1], str):
        assert res[0] == res[1]
    else:
        np.testing.assert_allclose(res[0], res[1], rtol=1e-10, atol=1e-12)


@needs_torch
def test_sdpa_transposed_query_refuses_mask_with_is_causal_like_torch():
    for m in (chainrule, torch):
        q = m.randn(1, 2, 4, 3).transpose(-1, -2)
        k = m.randn(1, 2, 5, 4)
        with pytest.raises(RuntimeError, match="attn_mask should not be set"):
            m.nn.functional.scaled_dot_product_attention(q, k, k, attn_mask=m.randn(3, 5),
                                                         is_causal=True)


_UNPOOL = [  # (n, input shape, pool kwargs, unpool kwargs, output_size)
    (1, (2, 3, 7), dict(kernel_size=2), dict(kernel_size=2), None),
    (1, (3, 7), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=3, stride=2,
                                                               padding=1), [7]),
    (2, (2, 2, 5, 5), dict(kernel_size=2), dict(kernel_size=2), [2, 2, 5, 5]),
    (2, (3, 4, 6), dict(kernel_size=(2, 3), stride=(1, 2)), dict(kernel_size=(2, 3),
                                                                stride=(1, 2)), (4, 6)),
    (2, (1, 2, 6, 5), dict(kernel_size=3, stride=2, padding=1),
     dict(kernel_size=3, stride=2, padding=1), (6, 5)),
    (3, (1, 2, 4, 5, 4), dict(kernel_size=2), dict(kernel_size=2), (4, 5, 4)),
    (3, (2, 3, 4, 5), dict(kernel_size=(1, 2, 2), stride=(1, 2, 1)),
     dict(kernel_size=(1, 2, 2), stride=(1, 2, 1)), None),
]


@needs_torch
@pytest.mark.parametrize("case", range(len(_UNPOOL)))
def test_max_unpool_modules_round_trip_like_torch(case):
    n, shape, pkw, ukw, osize = _UNPOOL[case]
    x = np.random.default_rng(case).permutation(int(np.prod(shape))).reshape(shape) / 7.0
    res = []
    for m in (chainrule, torch):
        xt = m.tensor(x, requires_grad=True)
        pool = getattr(m.nn, f"MaxPool{n}d")(return_indices=True, **pkw)
        unpool = getattr(m.nn, f"MaxUnpool{n}d")(**ukw)
        y, idx = pool(xt)
        out = unpool(y, idx, output_size=osize)
        (out * m.arange(out.numel(), dtype=out.dtype).reshape(out.shape)).sum().backward()
        res.append((repr(unpool), tuple(out.shape), str(out.dtype).split(".")[1],
                    out.detach().numpy(), xt.grad.numpy()))
    assert res[0][:3] == res[1][:3]
    np.testing.assert_array_equal(res[0][3], res[1][3])
    np.testing.assert_allclose(res[0][4], res[1][4], rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("call,exc", [
    (lambda m, y, i: m.nn.MaxUnpool2d(2)(y, i, output_size=(7, 4)), ValueError),
    (lambda m, y, i: m.nn.MaxUnpool2d(2)(y, i, output_size=(1, 4, 4)), ValueError),
    (lambda m, y, i: m.nn.MaxUnpool2d(2)(y, i, output_size=(3, 3)), RuntimeError),
    (lambda m, y, i: m.nn.functional.max_unpool2d(y, i.int(), 2), RuntimeError),
    (lambda m, y, i: m.nn.functional.max_unpool2d(y.long(), i, 2), NotImplementedError),
    (lambda m, y, i: m.nn.functional.max_unpool2d(y[None], i[None], 2), RuntimeError),
    (lambda m, y, i: m.nn.functional.max_unpool2d(y[0, 0, 0], i[0, 0, 0], 2), IndexError),
    (lambda m, y, i: m.nn.functional.max_unpool3d(y[0], i[0], 2), RuntimeError),
    (lambda m, y, i: m.nn.functional.max_unpool1d(y, i, 2), RuntimeError),
    (lambda m, y, i: m.nn.functional.max_unpool2d(y, i, (2, 2, 2)), IndexError),
    (lambda m, y, i: m.nn.functional.max_unpool2d(y[:0], i[:0], 2).shape, None),
    (lambda m, y, i: m.nn.functional.max_unpool2d(y[0], i[0], 2).shape, None),
])
def test_max_unpool_errors_like_torch(call, exc):
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    res = []
    for m in (chainrule, torch):
        y, i = m.nn.functional.max_pool2d(m.tensor(x), 2, return_indices=True)
        if exc is None:
            res.append(tuple(call(m, y, i)))
        else:
            with pytest.raises(exc):
                call(m, y, i)
    if exc is None:
        assert res[0] == res[1]
