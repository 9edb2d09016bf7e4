"""Adversarial parity checks of the function transforms against torch (autograd.functional,
forward_ad, func, checkpoint): return structures, strict-mode errors, edge cases."""
import numpy as np
import pytest

import chainrule
from conftest import needs_torch

X1 = [1.0, 2.0, 3.0]
X2 = [[0.5, -1.0], [2.0, 0.3]]


def _outcome(fn, m):
    try:
        return "ok", fn(m)
    except Exception as e:  # noqa: BLE001  (the class and text are what is compared)
        return "err", e


def _shape_of(x, rg=True):
    if hasattr(x, "shape") and hasattr(x, "detach"):
        return ("T", tuple(x.shape)) + ((bool(x.requires_grad),) if rg else ())
    if isinstance(x, (tuple, list)):
        return (type(x).__name__,) + tuple(_shape_of(e, rg) for e in x)
    return repr(x)


def _leaves(x):
    if hasattr(x, "detach"):
        return [np.asarray(x.detach().numpy(), np.float64)]
    if isinstance(x, (tuple, list)):
        return [v for e in x for v in _leaves(e)]
    return []


def same(fn, msg=False, rg=True):
    """Run fn(m) for chainrule and torch: same outcome, structure (tuple vs list vs Tensor),
    requires_grad (unless ``rg`` is false), values; for errors the same class (and text when
    ``msg``)."""
    import torch
    a, b = _outcome(fn, chainrule), _outcome(fn, torch)
    assert a[0] == b[0], (a, b)
    if a[0] == "err":
        assert type(a[1]).__name__ == type(b[1]).__name__, (a[1], b[1])
        if msg:
            mine = str(a[1]).replace("chainrule.", "torch.")
            assert mine == str(b[1]), (mine, str(b[1]))
        return a[1]
    assert _shape_of(a[1], rg) == _shape_of(b[1], rg), (_shape_of(a[1], rg),
                                                        _shape_of(b[1], rg))
    for u, v in zip(_leaves(a[1]), _leaves(b[1])):
        scale = max(1.0, float(np.abs(v).max())) if v.size else 1.0   # float32 sums
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6 * scale)
    return a[1]


def _af(m):
    return m.autograd.functional


def _t(m, data, rg=False):
    return m.tensor(data, requires_grad=rg)


# -- autograd.functional: strict mode ---------------------------------------------------------
STRICT_CASES = {
    "vjp_two_outputs_each_own_input": lambda m: _af(m).vjp(
        lambda x, y: (x * 2, y * 2), (_t(m, X1), _t(m, X2)), (m.ones(3), m.ones(2, 2)),
        strict=True),
    "jvp_two_outputs_each_own_input": lambda m: _af(m).jvp(
        lambda x, y: (x * 2, y * 2), (_t(m, X1), _t(m, X2)), (m.ones(3), m.ones(2, 2)),
        strict=True),
    "vjp_linear_create_graph": lambda m: _af(m).vjp(
        lambda x: x * 2, _t(m, X1), m.ones(3), strict=True, create_graph=True),
    "jvp_linear_create_graph": lambda m: _af(m).jvp(
        lambda x: x * 2, _t(m, X1), m.ones(3), strict=True, create_graph=True),
    "jacobian_linear_create_graph": lambda m: _af(m).jacobian(
        lambda x: x * 2, _t(m, X1), strict=True, create_graph=True),
    "jacobian_independent_input": lambda m: _af(m).jacobian(
        lambda x, y: x * 2, (_t(m, X1), _t(m, X2)), strict=True),
    "hessian_linear": lambda m: _af(m).hessian(lambda x: x.sum() * 2, _t(m, X1), strict=True),
    "hessian_unused_input": lambda m: _af(m).hessian(
        lambda x, y: (x ** 2).sum(), (_t(m, X1), _t(m, X2)), strict=True),
    "hessian_cross_term": lambda m: _af(m).hessian(
        lambda x, y: x.sum() * y.sum(), (_t(m, X1), _t(m, X2)), strict=True),
    "hessian_quadratic_create_graph": lambda m: _af(m).hessian(
        lambda x: (x * x).sum(), _t(m, X1), strict=True, create_graph=True),
    "hessian_cubic_ok": lambda m: _af(m).hessian(
        lambda x: (x ** 3).sum(), _t(m, X1), strict=True),
    "hvp_linear": lambda m: _af(m).hvp(lambda x: x.sum() * 2, _t(m, X1), m.ones(3),
                                       strict=True),
    "vhp_linear": lambda m: _af(m).vhp(lambda x: x.sum() * 2, _t(m, X1), m.ones(3),
                                       strict=True),
    "hvp_unused_input": lambda m: _af(m).hvp(
        lambda x, y: (x ** 2).sum(), (_t(m, X1), _t(m, X2)), (m.ones(3), m.ones(2, 2)),
        strict=True),
    "hvp_quadratic_create_graph": lambda m: _af(m).hvp(
        lambda x: (x * x).sum(), _t(m, X1), m.ones(3), strict=True, create_graph=True),
    "vhp_quadratic_create_graph": lambda m: _af(m).vhp(
        lambda x: (x * x).sum(), _t(m, X1), m.ones(3), strict=True, create_graph=True),
    "vhp_quadratic_ok": lambda m: _af(m).vhp(
        lambda x: (x * x).sum(), _t(m, X1), m.ones(3), strict=True),
    "hvp_constant_output": lambda m: _af(m).hvp(
        lambda x: m.ones(()), _t(m, X1), m.ones(3), strict=True),
    "hessian_strict_vectorize": lambda m: _af(m).hessian(
        lambda x: (x ** 3).sum(), _t(m, X1), strict=True, vectorize=True),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(STRICT_CASES))
def test_functional_strict_mode_matches_torch(case):
    same(STRICT_CASES[case], msg=True)


# -- autograd.functional: forward-mode return containers ---------------------------------------
@needs_torch
@pytest.mark.parametrize("ins", ["single", "tuple", "one_tuple"])
@pytest.mark.parametrize("outs", ["single", "tuple"])
@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
def test_jacobian_vectorized_containers_match_torch(ins, outs, strategy):
    def fn(m):
        x, y = _t(m, X1), _t(m, X2)
        args = {"single": x, "tuple": (x, y), "one_tuple": (x,)}[ins]

        def f(*a):
            s = sum(t.sum() for t in a)
            return (a[0] * s, s.exp()) if outs == "tuple" else a[0] * s
        return _af(m).jacobian(f, args, vectorize=True, strategy=strategy)
    same(fn)


@needs_torch
@pytest.mark.parametrize("ins", ["single", "tuple", "one_tuple"])
@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
def test_hessian_vectorized_containers_match_torch(ins, strategy):
    def fn(m):
        x, y = _t(m, X1), _t(m, X2)
        args = {"single": x, "tuple": (x, y), "one_tuple": (x,)}[ins]
        return _af(m).hessian(lambda *a: sum((t ** 3).sum() for t in a) * a[0].sum(), args,
                              vectorize=True, outer_jacobian_strategy=strategy)
    # torch's forward-mode outer jacobian leaks requires_grad=True without create_graph
    same(fn, rg=strategy == "reverse-mode")


# -- chainrule.func ---------------------------------------------------------------------------
def _fn(m):
    return m.func


FUNC_ERRORS = {
    "grad_argnums_out_of_range": (lambda m: _fn(m).grad(lambda x, y: (x * y).sum(), argnums=2)(
        _t(m, X1), _t(m, X1)), "Got argnum=2, but only 2 positional inputs"),
    "grad_argnums_duplicate_negative": (lambda m: _fn(m).grad(
        lambda x, y: (x * y).sum(), argnums=(0, -2))(_t(m, X1), _t(m, X1)), None),
    "grad_argnums_empty": (lambda m: _fn(m).grad(lambda x, y: (x * y).sum(), argnums=())(
        _t(m, X1), _t(m, X1)), None),
    "grad_argnums_list": (lambda m: _fn(m).grad(lambda x, y: (x * y).sum(), argnums=[0])(
        _t(m, X1), _t(m, X1)), None),
    "grad_non_tensor_input": (lambda m: _fn(m).grad(lambda x: x)(3.0), None),
    "grad_aux_not_pair": (lambda m: _fn(m).grad(lambda x: x.sum(), has_aux=True)(_t(m, X1)),
                          None),
    "grad_aux_with_int_leaf": (lambda m: _fn(m).grad(
        lambda x: (x.sum(), {"a": x, "b": 3}), has_aux=True)(_t(m, X1)), None),
    "vjp_aux_with_none": (lambda m: _fn(m).vjp(lambda x: (x.sum(), None), _t(m, X1),
                                               has_aux=True), None),
    "jacfwd_aux_not_pair": (lambda m: _fn(m).jacfwd(lambda x: x * 2, has_aux=True)(
        _t(m, X1)), None),
    "jacrev_aux_not_pair": (lambda m: _fn(m).jacrev(lambda x: x * 2, has_aux=True)(
        _t(m, X1)), None),
    "vjp_float_output": (lambda m: _fn(m).vjp(lambda x: 3.0, _t(m, X1)), None),
    "jvp_float_output": (lambda m: _fn(m).jvp(lambda x: 3.0, (_t(m, X1),), (m.ones(3),)),
                         None),
    "jacfwd_float_output": (lambda m: _fn(m).jacfwd(lambda x: (x, 3.0))(_t(m, X1)), None),
    "vjp_cotangent_shape": (lambda m: _fn(m).vjp(lambda x: x.sin(), _t(m, X1))[1](m.ones(4)),
                            None),
    "jvp_integer_primal": (lambda m: _fn(m).jvp(lambda x: x * 2, (_t(m, [1, 2]),),
                                                (_t(m, [1, 1]),)), None),
    "jacfwd_integer_input": (lambda m: _fn(m).jacfwd(lambda x: x * 2)(_t(m, [1, 2])), None),
    "jvp_integer_tangent": (lambda m: _fn(m).jvp(lambda x: x, (m.ones(3),),
                                                 (m.ones(3, dtype=m.int64),)), None),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(FUNC_ERRORS))
def test_func_misuse_raises_like_torch(case):
    fn, prefix = FUNC_ERRORS[case]
    err = same(fn, msg=prefix is None)
    assert isinstance(err, Exception)
    if prefix is not None:
        assert str(err).startswith(prefix)


@needs_torch
@pytest.mark.parametrize("api", ["grad", "grad_and_value", "vjp"])
def test_func_aux_is_released_from_the_transform(api):
    """aux computed from the differentiated input comes back without this transform's graph
    (requires_grad False), while an input that requires grad outside keeps its graph."""
    def fn(m, rg):
        x = _t(m, X1, rg)

        def f(x):
            return (x ** 2).sum(), {"k": x * 2, "t": (x.sin(), [x])}
        if api == "vjp":
            aux = _fn(m).vjp(f, x, has_aux=True)[2]
        elif api == "grad":
            aux = _fn(m).grad(f, has_aux=True)(x)[1]
        else:
            aux = _fn(m).grad_and_value(f, has_aux=True)(x)[1][1]
        return [aux["k"].requires_grad, aux["t"][0].requires_grad, aux["t"][1][0].requires_grad,
                aux["k"]]
    import torch
    for rg in (False, True):
        a, b = fn(chainrule, rg), fn(torch, rg)
        assert a[:3] == b[:3]
        np.testing.assert_allclose(a[3].detach().numpy(), b[3].detach().numpy())


# -- vmap: in_dims / out_dims as pytree prefixes -----------------------------------------------
_A = [[1.0, -2.0, 0.5], [0.3, 0.7, -1.1], [2.0, 0.1, 0.4], [-0.6, 1.5, 0.9]]
_W = [[0.2, -0.4, 1.0], [1.3, 0.5, -0.7]]

VMAP_CASES = {
    "in_dims_none_for_a_subtree": lambda m: _fn(m).vmap(
        lambda d: d["a"] * d["b"][0].sum() + d["b"][1].sum(), in_dims=({"a": 0, "b": None},))(
        {"a": _t(m, _A), "b": [_t(m, _W), _t(m, _W)]}),
    "in_dims_nested_dims": lambda m: _fn(m).vmap(
        lambda d: d["a"] * d["b"][0].sum(), in_dims=({"a": 0, "b": [1]},))(
        {"a": _t(m, _A), "b": [_t(m, _A).t()]}),
    "in_dims_top_level_list": lambda m: _fn(m).vmap(lambda x, y: x + y, in_dims=[0, 0])(
        _t(m, _A), _t(m, _A)),
    "out_dims_out_of_range": lambda m: _fn(m).vmap(lambda x: x * 2, out_dims=2)(_t(m, _A)),
    "out_dims_negative": lambda m: _fn(m).vmap(lambda x: x * 2, out_dims=-1)(_t(m, _A)),
    "out_dims_too_negative": lambda m: _fn(m).vmap(lambda x: x * 2, out_dims=-3)(_t(m, _A)),
    "non_tensor_output_at_out_dims_none": lambda m: _fn(m).vmap(
        lambda x: (x * 2, 3.0), out_dims=(0, None))(_t(m, _A)),
    "non_tensor_output_batched": lambda m: _fn(m).vmap(lambda x: (x * 2, 3.0))(_t(m, _A)),
    "out_dims_nested_prefix": lambda m: _fn(m).vmap(
        lambda x: {"a": (x, x.sum()), "b": x * 3}, out_dims={"a": 0, "b": 1})(_t(m, _A)),
    "chunked_nested_out_dims": lambda m: _fn(m).vmap(
        lambda x: (x * 2, x.sum()), out_dims=(1, 0), chunk_size=3)(_t(m, _A)),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(VMAP_CASES))
def test_vmap_dims_match_torch(case):
    same(VMAP_CASES[case])


# -- vmap over nn.functional layers ------------------------------------------------------------
_X = [[[0.3, -1.2, 0.8], [1.1, 0.4, -0.5]], [[-0.7, 0.2, 1.5], [0.9, -0.3, 0.1]],
      [[0.05, 0.6, -0.9], [-1.4, 1.0, 0.35]]]
_X4 = [[[[0.3, -1.2], [0.8, 1.1], [0.4, -0.5]], [[-0.7, 0.2], [1.5, 0.9], [-0.3, 0.1]]],
       [[[1.3, 0.2], [-0.8, 0.1], [0.4, 0.5]], [[0.7, -0.2], [0.5, -0.9], [0.3, 1.1]]]]
_CW = [0.5, 2.0, 1.0]
_NF = {
    "cross_entropy": lambda m, x, **k: m.nn.functional.cross_entropy(x, m.tensor([0, 2]), **k),
    "cross_entropy_weight_ignore": lambda m, x, **k: m.nn.functional.cross_entropy(
        x, m.tensor([0, 2]), weight=m.tensor(_CW), ignore_index=2, **k),
    "cross_entropy_all_ignored": lambda m, x, **k: m.nn.functional.cross_entropy(
        x, m.tensor([1, 1]), ignore_index=1, **k),
    "cross_entropy_one_sample": lambda m, x, **k: m.nn.functional.cross_entropy(
        x[0], m.tensor(1), **k),
    "cross_entropy_smoothing": lambda m, x, **k: m.nn.functional.cross_entropy(
        x, m.tensor([0, 2]), label_smoothing=0.2, **k),
    "nll_loss_weight": lambda m, x, **k: m.nn.functional.nll_loss(
        x.log_softmax(-1), m.tensor([0, 2]), weight=m.tensor(_CW), **k),
}


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("loss", sorted(_NF))
def test_vmap_class_index_losses_match_torch(loss, reduction):
    f = _NF[loss]
    same(lambda m: m.func.vmap(lambda x: f(m, x, reduction=reduction))(_t(m, _X)))


@needs_torch
def test_vmap_cross_entropy_spatial_and_transforms():
    def ce(m):
        return lambda r: m.nn.functional.cross_entropy(r, m.tensor([0, 2]))
    same(lambda m: m.func.vmap(lambda x: m.nn.functional.cross_entropy(
        x, m.tensor([[0, 2], [1, 1]]), reduction="none"))(_t(m, _X4)))
    same(lambda m: m.func.vmap(m.func.grad(ce(m)))(_t(m, _X)))
    same(lambda m: m.func.grad(lambda x: m.func.vmap(ce(m))(x).sum())(_t(m, _X)))
    same(lambda m: m.func.vmap(m.func.jacrev(m.func.jacrev(ce(m))))(_t(m, _X)))
    same(lambda m: m.func.vmap(m.func.jacfwd(lambda r: m.nn.functional.cross_entropy(
        r, m.tensor([0, 2]), reduction="none")))(_t(m, _X)))

    def per_sample(m):
        w = m.tensor([[0.1, 0.2, 0.3], [-0.4, 0.5, 0.0], [0.3, -0.1, 0.2]])
        loss = m.func.grad(lambda w, x: m.nn.functional.cross_entropy(
            m.nn.functional.linear(x, w), m.tensor([0, 1])))
        return m.func.vmap(loss, in_dims=(None, 0))(w, _t(m, _X))
    same(per_sample)

    def backward(m):
        x = _t(m, _X, True)
        m.func.vmap(ce(m))(x).sum().backward()
        return x.grad
    same(backward)


_BN = [[[0.3, -1.2], [0.8, 1.1], [0.4, -0.5]], [[-0.7, 0.2], [1.5, 0.9], [-0.3, 0.1]],
       [[1.3, 0.2], [-0.8, 0.1], [0.4, 0.5]], [[0.7, -0.2], [0.5, -0.9], [0.3, 1.1]]]
NORM_CASES = {
    "batch_norm_train_no_running_stats": lambda m: m.func.vmap(
        lambda x: m.nn.functional.batch_norm(x, None, None, m.tensor([1.0, 2.0]),
                                             m.tensor([0.5, 0.0]), training=True))(_t(m, _BN)),
    "batch_norm_train_running_stats_error": lambda m: m.func.vmap(
        lambda x: m.nn.functional.batch_norm(x, m.zeros(2), m.ones(2), training=True))(
        _t(m, _BN)),
    "batch_norm_eval": lambda m: m.func.vmap(
        lambda x: m.nn.functional.batch_norm(x, m.tensor([0.1, 0.2]), m.tensor([1.0, 2.0]),
                                             training=False))(_t(m, _BN)),
    "instance_norm": lambda m: m.func.vmap(
        lambda x: m.nn.functional.instance_norm(x[None]))(_t(m, _BN)),
    "instance_norm_running_stats_error": lambda m: m.func.vmap(
        lambda x: m.nn.functional.instance_norm(x[None], m.zeros(3), m.ones(3)))(_t(m, _BN)),
    "module_without_tracking": lambda m: m.func.vmap(
        m.nn.BatchNorm1d(2, track_running_stats=False))(_t(m, _BN)),
    "grad_of_vmapped_batch_norm": lambda m: m.func.grad(lambda x: m.func.vmap(
        lambda r: m.nn.functional.batch_norm(r, None, None, training=True))(x).pow(3).sum())(
        _t(m, _BN)),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(NORM_CASES))
def test_vmap_batch_norm_training_matches_torch(case):
    err = same(NORM_CASES[case])
    if isinstance(err, Exception):      # torch's text, then which op is not batchable
        assert str(err).startswith("Batch norm got a batched tensor as input while the "
                                   "running_mean or running_var, which will be updated in "
                                   "place, were not batched.")
        assert "not batchable" in str(err)


@needs_torch
def test_vmap_batch_norm_error_leaves_running_stats():
    rm, rv = chainrule.zeros(2), chainrule.ones(2)
    with pytest.raises(RuntimeError, match="track_running_stats"):
        chainrule.func.vmap(lambda x: chainrule.nn.functional.batch_norm(
            x, rm, rv, training=True))(chainrule.tensor(_BN))
    assert rm.tolist() == [0.0, 0.0] and rv.tolist() == [1.0, 1.0]


def _arr(shape, seed):
    return np.random.RandomState(seed).randn(*shape).round(3).tolist()


_IMG, _CWB, _BB = _arr((3, 2, 4, 5, 5), 0), _arr((3, 6, 2, 3, 3), 1), _arr((3, 6), 2)
_C1, _CW1 = _arr((3, 2, 4, 7), 3), _arr((3, 6, 4, 3), 4)
CONV_CASES = {
    "weight_batched": lambda m: m.func.vmap(
        lambda x, w: m.nn.functional.conv2d(x, w, groups=2), in_dims=(None, 0))(
        _t(m, _IMG)[0], _t(m, _CWB)),
    "all_batched_bias_stride_padding": lambda m: m.func.vmap(
        lambda x, w, b: m.nn.functional.conv2d(x, w, b, padding=1, stride=2, groups=2))(
        _t(m, _IMG), _t(m, _CWB), _t(m, _BB)),
    "bias_batched_only": lambda m: m.func.vmap(
        lambda x, b: m.nn.functional.conv2d(x, _t(m, _CWB)[0], b, groups=2),
        in_dims=(None, 0))(_t(m, _IMG)[0], _t(m, _BB)),
    "unbatched_sample_shape": lambda m: m.func.vmap(
        lambda x, w: m.nn.functional.conv2d(x, w, groups=2))(_t(m, _IMG)[:, 0], _t(m, _CWB)),
    "conv1d_dilation_same": lambda m: m.func.vmap(
        lambda x, w: m.nn.functional.conv1d(x, w, dilation=2, padding="same"))(
        _t(m, _C1), _t(m, _CW1)),
    "per_sample_weight_grad": lambda m: m.func.vmap(m.func.grad(
        lambda w, x: m.nn.functional.conv2d(x, w, groups=2).pow(2).sum()))(
        _t(m, _CWB), _t(m, _IMG)),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_vmap_conv_with_batched_weight_matches_torch(case):
    same(CONV_CASES[case])


@needs_torch
def test_backward_through_vmapped_conv_with_batched_weight():
    def fn(m):
        w = _t(m, _CWB, True)
        out = m.func.vmap(lambda x, w: m.nn.functional.conv2d(x, w, groups=2))(_t(m, _IMG), w)
        out.pow(2).sum().backward()
        return w.grad
    same(fn)


# -- checkpoint ---------------------------------------------------------------------------------
def _ck(m):
    import importlib
    return importlib.import_module(m.__name__ + ".utils.checkpoint")


CKPT_ERRORS = {
    "default_is_reentrant_no_kwargs": lambda m: _ck(m).checkpoint(
        lambda t, k=1: t * k, _t(m, [1.0], True), k=2),
    "reentrant_kwargs": lambda m: _ck(m).checkpoint(
        lambda t, k=1, j=0: t * k, _t(m, [1.0], True), use_reentrant=True, k=2, j=3),
    "reentrant_debug": lambda m: _ck(m).checkpoint(
        lambda t: t, _t(m, [1.0], True), use_reentrant=True, debug=True),
    "reentrant_context_fn": lambda m: _ck(m).checkpoint(
        lambda t: t, _t(m, [1.0], True), use_reentrant=True, context_fn=lambda: None),
    "non_reentrant_kwargs_ok": lambda m: _ck(m).checkpoint(
        lambda t, k=1: t * k, _t(m, [1.0, 2.0], True), use_reentrant=False, k=3.0),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(CKPT_ERRORS))
@pytest.mark.filterwarnings("ignore")
def test_checkpoint_arguments_like_torch(case):
    same(CKPT_ERRORS[case], msg=True)


@needs_torch
def test_checkpoint_context_fn_wraps_forward_and_recomputation():
    import contextlib

    def fn(m):
        log = []

        @contextlib.contextmanager
        def tag(name):
            log.append(name + "-in")
            yield
        x = _t(m, [1.0, 2.0], True)
        y = _ck(m).checkpoint(lambda t: t.sin() * t, x, use_reentrant=False,
                              context_fn=lambda: (tag("fwd"), tag("re")))
        log.append("mid")
        y.sum().backward()
        with m.no_grad():          # nothing recorded: context_fn is not called
            _ck(m).checkpoint(lambda t: t * 2, x, use_reentrant=False,
                              context_fn=lambda: (tag("nograd"), tag("nograd")))
        return log, x.grad
    same(fn)


# -- functional_call ----------------------------------------------------------------------------
def _net(m):
    net = m.nn.Sequential(m.nn.Linear(3, 2), m.nn.BatchNorm1d(2))
    with m.no_grad():
        net[0].weight.copy_(m.tensor([[0.1, 0.2, 0.3], [-0.4, 0.5, 0.6]]))
        net[0].bias.copy_(m.tensor([0.1, -0.1]))
    return net


def _tied(m):
    class Tied(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = m.nn.Linear(2, 2, bias=False)
            self.b = m.nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight
            with m.no_grad():
                self.a.weight.copy_(m.tensor([[0.5, -1.0], [0.25, 2.0]]))

        def forward(self, x):
            return self.b(self.a(x))
    return Tied()


_FX = [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]
_W2 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
_TW = [[1.0, 2.0], [3.0, 4.0]]
FCALL_CASES = {
    "duplicate_keys": lambda m: m.func.functional_call(
        _net(m), ({"0.weight": _t(m, _W2)}, {"0.weight": m.zeros(2, 3)}), (_t(m, _FX),)),
    "strict_missing": lambda m: m.func.functional_call(
        _net(m), {"0.weight": _t(m, _W2)}, (_t(m, _FX),), strict=True),
    "strict_unexpected": lambda m: m.func.functional_call(
        _net(m), {**dict(_net(m).named_parameters()), **dict(_net(m).named_buffers()),
                  "foo": m.zeros(1)}, (_t(m, _FX),), strict=True),
    "not_a_dict": lambda m: m.func.functional_call(_net(m), 3, (_t(m, _FX),)),
    "tie_weights": lambda m: m.func.functional_call(
        _tied(m), {"a.weight": _t(m, _TW)}, (_t(m, [[1.0, 2.0]]),)),
    "tie_weights_false": lambda m: m.func.functional_call(
        _tied(m), {"a.weight": _t(m, _TW)}, (_t(m, [[1.0, 2.0]]),), tie_weights=False),
    "tied_given_twice_differently": lambda m: m.func.functional_call(
        _tied(m), {"a.weight": _t(m, _TW), "b.weight": m.eye(2)}, (_t(m, [[1.0, 2.0]]),)),
    "tied_given_twice_same_object": lambda m: (lambda w: m.func.functional_call(
        _tied(m), {"a.weight": w, "b.weight": w}, (_t(m, [[1.0, 2.0]]),)))(_t(m, _TW)),
    "tied_strict_one_given": lambda m: m.func.functional_call(
        _tied(m), {"a.weight": _t(m, _TW)}, (_t(m, [[1.0, 2.0]]),), strict=True),
    "grad_through_tied": lambda m: m.func.grad(lambda w: m.func.functional_call(
        _tied(m), {"a.weight": w}, (_t(m, [[1.0, 2.0]]),)).sum())(_t(m, _TW)),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(FCALL_CASES))
def test_functional_call_like_torch(case):
    same(FCALL_CASES[case], msg=True)


# -- forward_ad ---------------------------------------------------------------------------------
def _fw(m):
    return m.autograd.forward_ad


def _in_level(m, f):
    with _fw(m).dual_level():
        return f()


FWD_CASES = {
    "make_dual_integer_primal": lambda m: _in_level(m, lambda: _fw(m).make_dual(
        _t(m, [1, 2]), m.ones(2))),
    "make_dual_integer_tangent": lambda m: _in_level(m, lambda: _fw(m).make_dual(
        _t(m, X1), m.ones(3, dtype=m.int64))),
    "make_dual_shape": lambda m: _in_level(m, lambda: _fw(m).make_dual(_t(m, X1), m.ones(4))),
    "make_dual_outside_level": lambda m: _fw(m).make_dual(_t(m, X1), m.ones(3)),
    "nested_levels": lambda m: _in_level(m, lambda: _in_level(m, lambda: 0)),
    "tangents_through_views": lambda m: _in_level(m, lambda: (lambda x: tuple(
        _fw(m).unpack_dual(v).tangent for v in (x.t(), x[0], x.reshape(4), x.unsqueeze(0),
                                                 x.expand(3, 2, 2), x.diagonal(),
                                                 x.narrow(1, 0, 1))))(_fw(m).make_dual(
        _t(m, [[1.0, 2.0], [3.0, 4.0]]), _t(m, [[1.0, 0.0], [0.0, 2.0]])))),
    "unpack_dual_fields": lambda m: _in_level(m, lambda: (lambda u: (
        type(u).__name__, u._fields, u.primal, u.tangent))(_fw(m).unpack_dual(
            _fw(m).make_dual(_t(m, X1), m.ones(3)).exp()))),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(FWD_CASES))
def test_forward_ad_like_torch(case):
    same(FWD_CASES[case], msg=True)


# -- linearize, stack_module_state, functionalize, replace_all_batch_norm_modules_ ---------------
def _lins(m):
    m.manual_seed(0)
    return [m.nn.Linear(2, 1) for _ in range(3)]


REST_CASES = {
    "stack_module_state": lambda m: (lambda pb: ({k: (tuple(v.shape), v.requires_grad,
                                                      v.is_leaf) for k, v in pb[0].items()},
                                                 pb[1]))(m.func.stack_module_state(_lins(m))),
    "stack_module_state_mixed_requires_grad": lambda m: (lambda ms: (
        ms[1].weight.requires_grad_(False), m.func.stack_module_state(ms)))(_lins(m)),
    "stack_module_state_empty": lambda m: m.func.stack_module_state([]),
    "stack_module_state_modes": lambda m: m.func.stack_module_state(
        [m.nn.Linear(2, 1), m.nn.Linear(2, 1).eval()]),
    "stack_module_state_classes": lambda m: m.func.stack_module_state(
        [m.nn.Linear(2, 1), m.nn.Tanh()]),
    "functionalize_bad_remove": lambda m: m.func.functionalize(lambda x: x, remove="x"),
    "replace_all_batch_norm_modules_": lambda m: (lambda bn: (
        m.func.replace_all_batch_norm_modules_(bn) is bn, bn[0].running_mean,
        bn[0].track_running_stats, sorted(dict(bn.named_buffers()))))(
        m.nn.Sequential(m.nn.BatchNorm1d(2), m.nn.Linear(2, 2))),
    "replace_all_batch_norm_modules_then_vmap": lambda m: m.func.vmap(
        m.func.replace_all_batch_norm_modules_(m.nn.BatchNorm1d(3)))(
        _t(m, [[[1.0, 2.0], [3.0, 0.5], [0.2, 0.1]]] * 2)),
    "linearize": lambda m: (lambda of: (of[0], of[1](m.ones(2), m.zeros(2))))(
        m.func.linearize(lambda x, y: (x.sin() * y, y), _t(m, [1.0, 2.0]), _t(m, [0.5, 3.0]))),
    "linearize_tangent_shape": lambda m: m.func.linearize(
        lambda x: x.sin(), _t(m, [1.0, 2.0]))[1](m.ones(3)),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(REST_CASES))
def test_rest_of_torch_func_like_torch(case):
    same(REST_CASES[case], msg=True)


@needs_torch
def test_stack_module_state_ensemble_through_vmap():
    ms = _lins(chainrule)
    params, buffers = chainrule.func.stack_module_state(ms)
    x = chainrule.tensor([[1.0, -2.0]])
    out = chainrule.func.vmap(
        lambda p, b: chainrule.func.functional_call(ms[0], (p, b), (x,)))(params, buffers)
    want = chainrule.stack([m(x) for m in ms])
    np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy(), rtol=1e-6)

    def f(y):
        y.add_(1)
        z = y.clone()
        z.mul_(2)
        return z
    a, b = chainrule.ones(2), chainrule.ones(2)
    np.testing.assert_array_equal(chainrule.func.functionalize(f)(a).numpy(), f(b).numpy())
    np.testing.assert_array_equal(a.numpy(), b.numpy())      # input mutations still land


def _nondet(m, **kw):
    state = {"n": 0}

    def f(x):
        state["n"] += 1
        y = x * 2 if state["n"] == 1 else x[:1] * 3
        return y.exp().sum()
    x = _t(m, [1.0, 2.0], True)
    _ck(m).checkpoint(f, x, **kw).backward()
    return x.grad


CKPT_MORE = {
    "recomputation_changes_shapes": lambda m: _nondet(m, use_reentrant=False),
    "reentrant_without_input_requiring_grad": lambda m: (lambda lin: _ck(m).checkpoint(
        lin, m.ones(1, 2), use_reentrant=True).requires_grad)(m.nn.Linear(2, 2)),
    "non_reentrant_without_input_requiring_grad": lambda m: (lambda lin: _ck(m).checkpoint(
        lin, m.ones(1, 2), use_reentrant=False).requires_grad)(m.nn.Linear(2, 2)),
    "detach_variable": lambda m: _ck(m).detach_variable((_t(m, [1.0], True), 3, _t(m, [2.0]))),
    "detach_variable_list": lambda m: _ck(m).detach_variable([_t(m, [1.0])]),
    "noop_context_fn": lambda m: len(_ck(m).noop_context_fn()),
    "preserve_rng_state_keyword": lambda m: _ck(m).checkpoint(
        lambda t: t * 2, _t(m, [1.0], True), use_reentrant=False, preserve_rng_state=False),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(CKPT_MORE))
@pytest.mark.filterwarnings("ignore")
def test_checkpoint_more_like_torch(case):
    err = same(CKPT_MORE[case])
    if isinstance(err, Exception):
        assert "different metadata than during the forward pass" in str(err) or \
            "Only tuple of tensors" in str(err)


def test_checkpoint_reentrant_warns_without_inputs_requiring_grad():
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        chainrule.utils.checkpoint.checkpoint(lambda t: t * 2, chainrule.ones(2),
                                              use_reentrant=True)


def test_checkpoint_determinism_check_none_skips_the_check():
    g = _nondet(chainrule, use_reentrant=False, determinism_check="none")
    assert g.shape == (2,)
    assert isinstance(chainrule.utils.checkpoint.CheckpointError("x"), RuntimeError)


_X3 = _arr((3, 2, 4), 5)
_SA = (np.random.RandomState(6).randn(3, 2, 2).round(3) + 3 * np.eye(2)).tolist()
_SB, _SM = _arr((3, 2), 7), _arr((3, 2, 3), 8)
MORE_VMAP = {
    "pad_reflect": lambda m: m.func.vmap(lambda x: m.nn.functional.pad(
        x, (1, 2), mode="reflect"))(_t(m, _X3)),
    "pad_replicate": lambda m: m.func.vmap(lambda x: m.nn.functional.pad(
        x[None], (1, 2), mode="replicate"))(_t(m, _X3)),
    "interpolate_linear": lambda m: m.func.vmap(lambda x: m.nn.functional.interpolate(
        x[None], scale_factor=2, mode="linear"))(_t(m, _X3)),
    "interpolate_bilinear": lambda m: m.func.vmap(lambda x: m.nn.functional.interpolate(
        x[None, None], size=(3, 5), mode="bilinear", align_corners=True))(_t(m, _X3)),
    "interpolate_nearest_grad": lambda m: m.func.vmap(m.func.grad(
        lambda x: m.nn.functional.interpolate(x[None], size=7).pow(2).sum()))(_t(m, _X3)),
    "pad_reflect_grad": lambda m: m.func.vmap(m.func.grad(lambda x: m.nn.functional.pad(
        x, (1, 2), mode="reflect").pow(2).sum()))(_t(m, _X3)),
    "logcumsumexp": lambda m: m.func.vmap(lambda x: x.logcumsumexp(0))(_t(m, _X3)),
    "logcumsumexp_grad": lambda m: m.func.vmap(m.func.grad(
        lambda x: x.logcumsumexp(-1).sum()))(_t(m, _X3)),
    "solve_batched_both": lambda m: m.func.vmap(m.linalg.solve)(_t(m, _SA), _t(m, _SM)),
    "solve_vector": lambda m: m.func.vmap(m.linalg.solve)(_t(m, _SA), _t(m, _SB)),
    "solve_matrix_only": lambda m: m.func.vmap(lambda a: m.linalg.solve(a, _t(m, _SB)[0]))(
        _t(m, _SA)),
    "solve_rhs_only": lambda m: m.func.vmap(lambda b: m.linalg.solve(_t(m, _SA)[0], b))(
        _t(m, _SM)),
    "solve_grad": lambda m: m.func.vmap(m.func.grad(
        lambda a, b: m.linalg.solve(a, b).pow(2).sum(), argnums=(0, 1)))(_t(m, _SA),
                                                                         _t(m, _SB)),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(MORE_VMAP))
def test_vmap_more_primitives_match_torch(case):
    same(MORE_VMAP[case])


# -- autograd.functional under no_grad, mixed dtypes ----------------------------------------------
def _no_grad_call(m, g):
    with m.no_grad():
        return g(m)


def _fvec(x):
    return x.sin() * x.sum()


def _fsc(x):
    return (x.sin() * x.sum()).sum()


NO_GRAD_CASES = {
    "jacobian": lambda m: _af(m).jacobian(_fvec, _t(m, X1)),
    "jacobian_create_graph": lambda m: _af(m).jacobian(_fvec, _t(m, X1, True),
                                                       create_graph=True),
    "jacobian_forward": lambda m: _af(m).jacobian(_fvec, _t(m, X1), vectorize=True,
                                                  strategy="forward-mode"),
    "hessian": lambda m: _af(m).hessian(_fsc, _t(m, X1)),
    "vjp": lambda m: _af(m).vjp(_fvec, _t(m, X1), m.ones(3)),
    "jvp": lambda m: _af(m).jvp(_fvec, _t(m, X1), m.ones(3)),
    "hvp": lambda m: _af(m).hvp(_fsc, _t(m, X1), m.ones(3)),
    "vhp": lambda m: _af(m).vhp(_fsc, _t(m, X1), m.ones(3)),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(NO_GRAD_CASES))
def test_functional_under_no_grad_like_torch(case):
    same(lambda m: _no_grad_call(m, NO_GRAD_CASES[case]))


@needs_torch
@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
def test_hessian_block_dtypes_with_mixed_inputs(strategy):
    def fn(m):
        h = _af(m).hessian(lambda x, y: (x.double() * y).sum() ** 2,
                           (_t(m, X1), _t(m, X1).double()), vectorize=True,
                           outer_jacobian_strategy=strategy)
        return [[str(b.dtype).split(".")[-1] for b in r] for r in h], h
    same(fn, rg=strategy == "reverse-mode")


FUNC_NO_GRAD = {
    "grad_input_requires_grad": lambda m: _fn(m).grad(_fsc)(_t(m, X1, True)),
    "grad_and_value_input_requires_grad": lambda m: _fn(m).grad_and_value(_fsc)(
        _t(m, X1, True)),
    "grad_argnums_tuple": lambda m: _fn(m).grad(lambda a, b: (a * b.exp()).sum(),
                                                argnums=(0, 1))(_t(m, X1, True), _t(m, X1)),
    "grad_dict_input": lambda m: _fn(m).grad(lambda d: (d["a"] ** 3).sum())(
        {"a": _t(m, X1, True)}),
    "vjp_input_requires_grad": lambda m: _fn(m).vjp(_fvec, _t(m, X1, True))[1](m.ones(3)),
    "jacfwd": lambda m: _fn(m).jacfwd(_fvec)(_t(m, X1)),
    "vmap_of_grad": lambda m: _fn(m).vmap(_fn(m).grad(_fsc))(_t(m, [X1, X1])),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(FUNC_NO_GRAD))
def test_func_under_no_grad_like_torch(case):
    same(lambda m: _no_grad_call(m, FUNC_NO_GRAD[case]))


_XS = [[0.7, 1.3, 0.45], [1.9, 0.2, 0.8]]
SPECIAL_OPS = {
    "i0": lambda m, x: m.special.i0(x), "i1": lambda m, x: m.special.i1(x),
    "i0e": lambda m, x: m.special.i0e(x), "i1e": lambda m, x: m.special.i1e(x),
    "erfcx": lambda m, x: m.special.erfcx(x), "log_ndtr": lambda m, x: m.special.log_ndtr(x),
    "ndtri": lambda m, x: m.special.ndtri(x * 0.3 + 0.1),
    "zeta": lambda m, x: m.special.zeta(x + 1.5, 2.0),
    "gammainc": lambda m, x: m.special.gammainc(x + 0.5, x),
    "gammaincc": lambda m, x: m.special.gammaincc(x + 0.5, x * 2),
    "nextafter": lambda m, x: m.nextafter(x, x + 1) - x,
    "div_floor": lambda m, x: m.div(x * 5, x + 0.3, rounding_mode="floor"),
}


@needs_torch
@pytest.mark.parametrize("op", sorted(SPECIAL_OPS))
def test_vmap_special_functions_match_torch(op):
    f = SPECIAL_OPS[op]
    same(lambda m: m.func.vmap(lambda x: f(m, x))(_t(m, _XS)))
    same(lambda m: m.func.vmap(lambda x, y: f(m, x) * y, in_dims=(None, 0))(
        _t(m, _XS)[0], _t(m, _XS)))
    if op not in ("nextafter", "div_floor", "zeta", "gammainc", "gammaincc"):
        same(lambda m: m.func.vmap(m.func.grad(lambda x: f(m, x).sum()))(_t(m, _XS)))
