"""nn.utils: gradient clipping, parameter vectors and the rnn padding/packing helpers,
against torch."""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import utils
from chainrule.nn.utils import rnn as rnn_utils
from conftest import HAVE_TORCH, needs_torch

if HAVE_TORCH:
    import torch


def _params(m, grads, dtype="float64"):
    ps = []
    for g in grads:
        p = m.nn.Parameter(m.zeros(np.shape(g) if g is not None else (2,),
                                   dtype=getattr(m, dtype)))
        p.grad = None if g is None else m.tensor(np.asarray(g), dtype=getattr(m, dtype))
        ps.append(p)
    return ps


rng = np.random.default_rng(0)
GRADS = [rng.standard_normal((3, 4)), None, rng.standard_normal(5), rng.standard_normal(())]


@needs_torch
@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, 3.0, 0.5, -math.inf, 0])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _params(cr, GRADS), _params(torch, GRADS)
    n_o = utils.clip_grad_norm_(ours, max_norm, norm_type)
    n_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert n_o.shape == () and n_o.dtype == cr.float64
    np.testing.assert_allclose(n_o.item(), n_t.item(), rtol=1e-12)
    for a, b in zip(ours, theirs):
        if b.grad is None:
            assert a.grad is None
        else:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


@needs_torch
def test_clip_grad_norm_single_tensor_float32_and_no_grads():
    g = rng.standard_normal((4, 4))
    p_o, = _params(cr, [g], "float32")
    p_t, = _params(torch, [g], "float32")
    n_o = utils.clip_grad_norm_(p_o, 1.0)
    n_t = torch.nn.utils.clip_grad_norm_(p_t, 1.0)
    assert n_o.dtype == cr.float32
    np.testing.assert_allclose(n_o.item(), n_t.item(), rtol=1e-6)
    np.testing.assert_allclose(p_o.grad.numpy(), p_t.grad.numpy(), rtol=1e-6)
    assert utils.clip_grad_norm_([cr.nn.Parameter(cr.ones(2))], 1.0).item() == 0.0


def test_clip_grad_norm_nonfinite():
    p, = _params(cr, [np.array([1.0, np.inf])])
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    with np.errstate(invalid="ignore"):            # inf * 0 scales a grad to nan
        assert math.isinf(utils.clip_grad_norm_(p, 1.0).item())


def test_clip_grad_norm_model_end_to_end():
    m = cr.nn.Sequential(cr.nn.Identity())
    w = cr.nn.Parameter(cr.tensor([3.0, 4.0]))
    m.register_parameter("w", w)
    (w * w).sum().backward()                       # grad = (6, 8), norm 10
    total = utils.clip_grad_norm_(m.parameters(), max_norm=5.0)
    assert abs(total.item() - 10.0) < 1e-6
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 4.0], rtol=1e-5)
    assert utils.get_total_norm([w.grad]).item() == pytest.approx(5.0, rel=1e-5)


@needs_torch
def test_clip_grad_value_matches_torch():
    ours, theirs = _params(cr, GRADS), _params(torch, GRADS)
    utils.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for a, b in zip(ours, theirs):
        if b.grad is not None:
            np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


@needs_torch
def test_parameters_vector_roundtrip_matches_torch():
    shapes = [(2, 3), (4,), ()]
    vals = [rng.standard_normal(s) for s in shapes]
    ours = [cr.nn.Parameter(cr.tensor(v)) for v in vals]
    theirs = [torch.nn.Parameter(torch.tensor(v)) for v in vals]
    v_o = utils.parameters_to_vector(ours)
    v_t = torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(v_o.detach().numpy(), v_t.detach().numpy())
    assert v_o.requires_grad
    new = cr.arange(11.0, dtype=cr.float64)
    utils.vector_to_parameters(new, ours)
    torch.nn.utils.vector_to_parameters(torch.arange(11.0, dtype=torch.float64), theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        assert a.requires_grad and isinstance(a, cr.nn.Parameter)
    with pytest.raises(TypeError):
        utils.vector_to_parameters([1.0], ours)
    with pytest.raises(TypeError):
        utils.parameters_to_vector([np.ones(2)])


SEQS = [rng.standard_normal((3, 2)), rng.standard_normal((5, 2)), rng.standard_normal((1, 2))]


@needs_torch
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, side):
    ours = [cr.tensor(s, requires_grad=True) for s in SEQS]
    theirs = [torch.tensor(s, requires_grad=True) for s in SEQS]
    p_o = rnn_utils.pad_sequence(ours, batch_first, -1.0, side)
    p_t = torch.nn.utils.rnn.pad_sequence(theirs, batch_first, -1.0, side)
    np.testing.assert_array_equal(p_o.detach().numpy(), p_t.detach().numpy())
    w = rng.standard_normal(tuple(p_t.shape))
    (p_o * cr.tensor(w)).sum().backward()
    (p_t * torch.tensor(w)).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_pad_sequence_errors():
    with pytest.raises(RuntimeError, match="padding_side"):     # torch's class
        rnn_utils.pad_sequence([cr.ones(2)], padding_side="middle")
    with pytest.raises(RuntimeError):
        rnn_utils.pad_sequence([cr.ones(2, 3), cr.ones(2, 4)])


@needs_torch
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_pad_roundtrip_matches_torch(enforce_sorted):
    lengths = [5, 3, 1] if enforce_sorted else [3, 5, 1]
    x = rng.standard_normal((3, 5, 2))
    tx = torch.tensor(x, requires_grad=True)
    cx = cr.tensor(x, requires_grad=True)
    tp = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first=True,
                                                 enforce_sorted=enforce_sorted)
    cp = rnn_utils.pack_padded_sequence(cx, lengths, batch_first=True,
                                        enforce_sorted=enforce_sorted)
    np.testing.assert_array_equal(cp.data.detach().numpy(), tp.data.detach().numpy())
    assert cp.batch_sizes.tolist() == tp.batch_sizes.tolist()
    assert cp.batch_sizes.dtype == cr.int64
    for a, b in ((cp.sorted_indices, tp.sorted_indices),
                 (cp.unsorted_indices, tp.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.tolist() == b.tolist()
    t_pad, t_len = torch.nn.utils.rnn.pad_packed_sequence(tp, True, 0.5, total_length=6)
    c_pad, c_len = rnn_utils.pad_packed_sequence(cp, True, 0.5, total_length=6)
    np.testing.assert_array_equal(c_pad.detach().numpy(), t_pad.detach().numpy())
    assert c_len.tolist() == t_len.tolist()
    (t_pad * t_pad).sum().backward()
    (c_pad * c_pad).sum().backward()
    np.testing.assert_array_equal(cx.grad.numpy(), tx.grad.numpy())


@needs_torch
def test_pack_sequence_unpack_unpad_match_torch():
    ours = [cr.tensor(s) for s in SEQS]
    theirs = [torch.tensor(s) for s in SEQS]
    cp = rnn_utils.pack_sequence(ours, enforce_sorted=False)
    tp = torch.nn.utils.rnn.pack_sequence(theirs, enforce_sorted=False)
    np.testing.assert_array_equal(cp.data.numpy(), tp.data.numpy())
    for a, b in zip(rnn_utils.unpack_sequence(cp), torch.nn.utils.rnn.unpack_sequence(tp)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    padded = rnn_utils.pad_sequence(ours)
    for a, b in zip(rnn_utils.unpad_sequence(padded, [3, 5, 1]), theirs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert isinstance(cp, tuple) and cp._fields == tp._fields


def test_pack_errors():
    x = cr.ones(4, 3, 2)
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        rnn_utils.pack_padded_sequence(x, [1, 2, 3])
    with pytest.raises(RuntimeError):
        rnn_utils.pack_padded_sequence(x, [2, 0, 1])
    p = rnn_utils.pack_padded_sequence(x, [4, 2, 1])
    with pytest.raises(ValueError):
        rnn_utils.pad_packed_sequence(p, total_length=2)
    assert p.to(cr.float64).data.dtype == cr.float64
