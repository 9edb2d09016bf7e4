"""Parity audit of the training stack (nn, optim, lr_scheduler, utils.data) against torch:
one regression test per divergence found."""
import numpy as np
import pytest

import chainrule
from conftest import needs_torch


def _both(fn):
    import torch
    return fn(chainrule), fn(torch)


def _raises_same(fn):
    """fn(m) must raise the same exception class and message (library name normalised)."""
    out = []
    for m in _libs():
        with pytest.raises(Exception) as info:
            fn(m)
        out.append((type(info.value).__name__, str(info.value).replace(m.__name__, "torch")))
    assert out[0] == out[1], out


def _libs():
    import torch
    return chainrule, torch


@needs_torch
@pytest.mark.parametrize("name", ["Adam", "AdamW", "SGD", "Adagrad"])
@pytest.mark.parametrize("kw", [dict(foreach=True, fused=True),
                                dict(fused=True, differentiable=True)])
def test_fused_conflicts_raise(name, kw):
    _raises_same(lambda m: getattr(m.optim, name)([m.nn.Parameter(m.ones(2))], lr=0.1, **kw))


@needs_torch
@pytest.mark.parametrize("name", ["Adam", "SGD"])
def test_fused_alone_accepted(name):
    for m in _libs():
        getattr(m.optim, name)([m.nn.Parameter(m.ones(2))], lr=0.1, fused=True)


@needs_torch
@pytest.mark.parametrize("cell,hid", [
    ("RNNCell", lambda m: m.zeros(2, 5)), ("GRUCell", lambda m: m.zeros(2, 5)),
    ("GRUCell", lambda m: m.zeros(3, 4)),
    ("LSTMCell", lambda m: (m.zeros(3, 4), m.zeros(2, 4))),
    ("LSTMCell", lambda m: (m.zeros(2, 4), m.zeros(2, 5))),
    ("LSTMCell", lambda m: (m.zeros(2, 4), m.zeros(1, 4)))])
def test_rnn_cell_hidden_checks(cell, hid):
    _raises_same(lambda m: getattr(m.nn, cell)(3, 4)(m.zeros(2, 3), hid(m)))


@needs_torch
@pytest.mark.parametrize("cell", ["RNNCell", "GRUCell", "LSTMCell"])
@pytest.mark.parametrize("shape", [(2, 5), (5,)])
def test_rnn_cell_input_size_check(cell, shape):
    _raises_same(lambda m: getattr(m.nn, cell)(3, 4)(m.zeros(*shape)))


@needs_torch
@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_rnn_input_dim_message(cls):
    _raises_same(lambda m: getattr(m.nn, cls)(3, 4)(m.zeros(5, 2, 3, 1)))


@needs_torch
def test_small_error_texts():
    _raises_same(lambda m: m.nn.GroupNorm(3, 4))
    _raises_same(lambda m: m.nn.init.kaiming_uniform_(m.empty(3, 4), mode="fan"))
