"""Engine semantics: accumulation, fan-out, retain_graph, hooks, versions, depth, freeing."""
import gc
import threading
import weakref

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import Function


def test_textbook_example():
    x = cr.tensor(2.0, requires_grad=True)
    y = 5 * x ** 2 + 3
    y.backward()
    assert y.item() == 23.0 and x.grad.item() == 20.0


def test_a_plus_a_twice_gives_four():
    x = cr.tensor(1.5, requires_grad=True)
    a = x
    b = a + a
    c = b + b
    c.backward()
    assert x.grad.item() == 4.0


def test_fan_out_1000():
    x = cr.tensor(1.0, requires_grad=True)
    total = sum(x * float(i) for i in range(1000))
    total.backward()
    assert x.grad.item() == sum(range(1000))


def test_accumulates_across_calls_and_retain_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_second_backward_through_freed_graph_raises():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_grad_is_none_until_backward_and_nonleaf_has_none():
    x = cr.ones(2, requires_grad=True)
    y = x * 2
    assert x.grad is None
    y.sum().backward()
    assert y.grad is None and x.grad is not None


def test_retain_grad():
    x = cr.ones(2, requires_grad=True)
    y = x * 3
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [6.0, 6.0])


def test_no_grad_and_decorator():
    x = cr.ones(2, requires_grad=True)
    with cr.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None

    @cr.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad
    with cr.no_grad():
        with cr.enable_grad():
            assert (x * 2).requires_grad
    with cr.set_grad_enabled(False):
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()
    with cr.inference_mode():
        assert not (x * 2).requires_grad


def test_grad_mode_is_thread_local():
    seen = []

    def worker():
        seen.append(cr.is_grad_enabled())
    with cr.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen == [True]


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        cr.tensor([1, 2], requires_grad=True)


def test_hooks_replace_and_remove():
    x = cr.ones(3, requires_grad=True)
    h = x.register_hook(lambda g: g * 2)
    (x * 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 2])
    h.remove()
    x.grad = None
    (x * 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1, 1, 1])
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.clone()))
    y.sum().backward()
    assert len(seen) == 1


def test_version_counter_error_names_op_and_versions():
    x = cr.ones(3, requires_grad=True)
    y = x * 2
    z = y * y
    y.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*version 1; "
                                           r"expected version 0"):
        z.sum().backward()


def test_views_share_version_counter():
    x = cr.ones(4)
    v = x[1:]
    v.add_(1)
    assert x._version == 1 and v._version == 1
    np.testing.assert_allclose(x.numpy(), [1, 2, 2, 2])


def test_inplace_on_leaf_requiring_grad_raises_unless_no_grad():
    w = cr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w.add_(1)
    with cr.no_grad():
        w -= 0.5
    np.testing.assert_allclose(w.detach().numpy(), [0.5, 0.5])


def test_inplace_on_view_updates_base_history():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y[1:].mul_(3)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1, 3, 3])


def test_exp_then_inplace_on_its_output_is_caught():
    x = cr.ones(2, requires_grad=True)
    y = (x * 1).exp_()
    y.sigmoid_()
    # exp_ saved its output; sigmoid_ overwrote it
    with pytest.raises(RuntimeError, match="inplace"):
        y.sum().backward()


def test_deep_chain_150k_and_delete():
    x = cr.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(150_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
    y2 = x
    for _ in range(150_000):
        y2 = y2 + 0.0
    del y2      # deleting an un-run deep graph must not overflow the C stack


def test_graph_freed_by_refcount_alone():
    gc.disable()
    try:
        x = cr.ones(3, requires_grad=True)
        y = (x * 2).exp().sum()
        ref = weakref.ref(y.grad_fn)
        del y
        assert ref() is None
        y = (x * 2).exp().sum()
        ref = weakref.ref(y.grad_fn.next_functions[0][0])
        y.backward()
        del y
        assert ref() is None
    finally:
        gc.enable()


def test_create_graph_second_derivative():
    x = cr.tensor(1.5, requires_grad=True)
    y = x.sin() * x ** 3
    g, = cr.autograd.grad(y, x, create_graph=True)
    h, = cr.autograd.grad(g, x)
    xv = 1.5
    expect = -np.sin(xv) * xv ** 3 + 6 * np.cos(xv) * xv ** 2 + 6 * xv * np.sin(xv)
    assert abs(h.item() - expect) < 1e-4


def test_autograd_grad_allow_unused_and_errors():
    x = cr.ones(2, requires_grad=True)
    z = cr.ones(2, requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        cr.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = cr.autograd.grad(y, [x, z], allow_unused=True)
    assert gz is None and gx.tolist() == [2.0, 2.0]
    assert x.grad is None


def test_backward_inputs_only_accumulates_there():
    x = cr.ones(2, requires_grad=True)
    z = cr.ones(2, requires_grad=True)
    (x * z).sum().backward(inputs=[x])
    assert z.grad is None and x.grad.tolist() == [1.0, 1.0]


def test_nonscalar_backward_needs_gradient():
    x = cr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar outputs"):
        (x * 2).backward()
    (x * 2).backward(cr.tensor([1.0, 3.0]))
    assert x.grad.tolist() == [2.0, 6.0]


def test_gradients_keep_input_dtype():
    x = cr.ones(2, requires_grad=True)
    w = cr.ones(2, dtype=cr.float64, requires_grad=True)
    (x * w).sum().backward()
    assert x.grad.dtype == cr.float32 and w.grad.dtype == cr.float64


def test_broadcast_gradient_is_summed_by_engine():
    a = cr.ones(3, 4, requires_grad=True)
    b = cr.ones(4, requires_grad=True)
    c = cr.ones(3, 1, requires_grad=True)
    (a * b * c).sum().backward()
    assert b.grad.tolist() == [3.0] * 4 and c.grad.tolist() == [[4.0]] * 3


class Cube(Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_backward(x)
        ctx.k = k
        return x ** 3 * k

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3 * x ** 2 * ctx.k, None


def test_custom_function_and_double_backward():
    x = cr.tensor(2.0, requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn.name() == "CubeBackward"
    g, = cr.autograd.grad(y, x, create_graph=True)
    assert g.item() == 24.0
    h, = cr.autograd.grad(g, x)
    assert h.item() == 24.0


class TwoOut(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(True)
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, ga, gb):
        assert ctx.needs_input_grad == (True,)
        return ga * 2 + gb * 3


def test_custom_function_tuple_outputs_and_materialized_grads():
    x = cr.ones(2, requires_grad=True)
    a, b = TwoOut.apply(x)
    a.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


class Argmax(Function):
    @staticmethod
    def forward(ctx, x):
        idx = x.argmax_placeholder if False else cr.tensor(0)
        ctx.mark_non_differentiable(idx)
        return x * 1, idx

    @staticmethod
    def backward(ctx, g, gi):
        return g


def test_mark_non_differentiable():
    x = cr.ones(2, requires_grad=True)
    y, i = Argmax.apply(x)
    assert y.requires_grad and not i.requires_grad


class AddOneInplace(Function):
    @staticmethod
    def forward(ctx, x):
        x.add_(1)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g


def test_mark_dirty():
    x = cr.ones(2, requires_grad=True)
    y = x * 1
    z = AddOneInplace.apply(y)
    assert z is y and y.grad_fn.name() == "AddOneInplaceBackward"
    z.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_once_differentiable_blocks_double_backward():
    from chainrule.autograd.function import once_differentiable

    class Sq(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * x * g
    x = cr.tensor(3.0, requires_grad=True)
    v = cr.tensor(1.0, requires_grad=True)
    g, = cr.autograd.grad(Sq.apply(x), x, grad_outputs=v, create_graph=True)
    assert g.item() == 6.0
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.backward()


def test_threads_share_leaf_exactly():
    w = cr.ones(4, requires_grad=True)

    def work():
        for _ in range(20):
            (w * 2).sum().backward()
    ts = [threading.Thread(target=work) for _ in range(10)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert w.grad.tolist() == [400.0] * 4


def test_gradcheck_catches_wrong_backward():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 2 * x * 1.01
    x = cr.randn(3, dtype=cr.float64, requires_grad=True)
    with pytest.raises(cr.autograd.GradcheckError):
        cr.autograd.gradcheck(Bad.apply, (x,))
    assert cr.autograd.gradcheck(Bad.apply, (x,), raise_exception=False) is False


def test_detect_anomaly_names_function():
    x = cr.tensor([0.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        y = cr.sqrt(x) * 0
        with pytest.raises(RuntimeError, match="SqrtBackward0.*nan") as e:
            y.sum().backward()
    assert "test_engine.py" in str(e.value)


def test_grad_fn_introspection():
    x = cr.ones(2, requires_grad=True)
    y = (x * 2).sum()
    assert y.grad_fn.name() == "SumBackward0"
    nxt = y.grad_fn.next_functions[0][0]
    assert nxt.name() == "MulBackward0"
    assert nxt.next_functions[0][0].name() == "AccumulateGrad"
    assert nxt.next_functions[0][0].variable is x


def test_leaves_never_share_a_gradient_array_or_write_into_the_callers():
    # Add hands one gradient array to both leaves; a later pass accumulates in place, which
    # must not reach the other leaf's .grad or the gradient the caller passed in
    x = cr.ones(3, requires_grad=True)
    y = cr.ones(3, requires_grad=True)
    c = cr.tensor([1.0, 2.0, 3.0])
    for _ in range(2):
        ((x + y) * c).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0, 6.0] and y.grad.tolist() == [2.0, 4.0, 6.0]
    g = cr.tensor([1.0, 1.0, 1.0])
    w = cr.ones(3, requires_grad=True)
    w.clone().backward(g)
    w.clone().backward(g)
    assert w.grad.tolist() == [2.0, 2.0, 2.0] and g.tolist() == [1.0, 1.0, 1.0]
    u = cr.ones(3, requires_grad=True)
    u.backward(g)
    u.backward(g)
    assert u.grad.tolist() == [2.0, 2.0, 2.0] and g.tolist() == [1.0, 1.0, 1.0]


def test_backend_col_sum_matches_numpy_sum_over_rows():
    from chainrule import backend
    rng = np.random.default_rng(0)
    for a in (rng.standard_normal((64, 10)).astype(np.float32), rng.standard_normal((3, 5)),
              rng.standard_normal((5000, 3)).astype(np.float32), np.zeros((0, 4), np.float32),
              rng.standard_normal((6, 4)).T, np.arange(12).reshape(4, 3)):
        got = backend.col_sum(a)
        assert got.shape == a.shape[1:] and got.dtype == a.sum(0).dtype
        np.testing.assert_allclose(got, a.sum(0), rtol=1e-5, atol=1e-5)


def test_create_graph_leaves_do_not_share_a_constant_gradient():
    x = cr.ones(3, requires_grad=True)
    y = cr.ones(3, requires_grad=True)
    (x + y).sum().backward(create_graph=True)
    (x + y).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0] and y.grad.tolist() == [2.0, 2.0, 2.0]


def test_loss_backward_seed_is_fresh_each_call():
    # loss.backward() copies its seed from a cache: a backward that writes into its incoming
    # gradient must not change the next call's seed
    class Doubler(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            g.mul_(2)
            return g

    for _ in range(3):
        x = cr.tensor(3.0, requires_grad=True)
        Doubler.apply(x).backward()
        assert x.grad.item() == 2.0
