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


def _cyclic_run(m, ctor, n, adam=False, reload_at=None):
    def make():
        ps = [m.nn.Parameter(m.ones(2)), m.nn.Parameter(m.ones(2))]
        groups = [{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.3}]
        return m.optim.Adam(groups, lr=0.1) if adam else m.optim.SGD(groups, lr=0.1,
                                                                      momentum=0.9)
    opt = make()
    sched = ctor(m, opt)
    seen = [[g["lr"], g["betas"][0] if adam else g["momentum"]] for g in opt.param_groups]
    for i in range(n):
        opt.step()
        sched.step()
        seen += [[g["lr"], g["betas"][0] if adam else g["momentum"]] for g in opt.param_groups]
        seen.append(sched.get_last_lr())
        if i == reload_at:
            state = sched.state_dict()
            opt2 = make()
            opt2.load_state_dict(opt.state_dict())
            sched = ctor(m, opt2)
            sched.load_state_dict(state)
            opt = opt2
    return np.array(seen, dtype=np.float64)


class _Halving:
    def __init__(self):
        self.k = 0.5

    def __call__(self, x):
        return self.k ** x


_CYCLIC = {
    "triangular": lambda m, o: m.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=3),
    "triangular2": lambda m, o: m.optim.lr_scheduler.CyclicLR(
        o, [0.01, 0.02], [0.1, 0.3], step_size_up=2, step_size_down=3, mode="triangular2"),
    "exp_range": lambda m, o: m.optim.lr_scheduler.CyclicLR(
        o, 0.01, 0.1, step_size_up=2, mode="exp_range", gamma=0.9, base_momentum=0.7,
        max_momentum=[0.95, 0.85]),
    "lambda": lambda m, o: m.optim.lr_scheduler.CyclicLR(
        o, 0.01, 0.1, step_size_up=2, scale_fn=lambda x: 0.8 ** x, scale_mode="iterations"),
    "callable": lambda m, o: m.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=2,
                                                           scale_fn=_Halving()),
    "no_momentum": lambda m, o: m.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=2,
                                                              cycle_momentum=False),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(_CYCLIC))
@pytest.mark.parametrize("adam", [False, True])
@pytest.mark.parametrize("reload_at", [None, 4])
def test_cyclic_lr_matches_torch(name, adam, reload_at):
    a, b = _both(lambda m: _cyclic_run(m, _CYCLIC[name], 12, adam, reload_at))
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@needs_torch
def test_cyclic_lr_state_dict_and_errors():
    def keys(m):
        opt = m.optim.SGD([m.nn.Parameter(m.ones(1))], lr=0.1, momentum=0.9)
        state = _CYCLIC["callable"](m, opt).state_dict()
        return sorted(state), state["_scale_fn_custom"]
    assert keys(chainrule) == keys(__import__("torch"))
    sgd = lambda m: m.optim.SGD([m.nn.Parameter(m.ones(1))], lr=0.1, momentum=0.9)
    _raises_same(lambda m: m.optim.lr_scheduler.CyclicLR(sgd(m), 0.1, 1, mode="x"))
    _raises_same(lambda m: m.optim.lr_scheduler.CyclicLR(
        m.optim.Adagrad([m.nn.Parameter(m.ones(1))]), 0.1, 1))
    _raises_same(lambda m: m.optim.lr_scheduler.CyclicLR(sgd(m), [0.1, 0.2], 1))


def _encoder_out(m, *, train=False, grad=False, kpm=None, mask=None, norm=False, **kw):
    import torch
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, **kw)
    ref = torch.nn.TransformerEncoder(layer, 2, norm=torch.nn.LayerNorm(8) if norm else None)
    enc = ref
    if m is chainrule:
        enc = m.nn.TransformerEncoder(m.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True,
                                                                   **kw), 2,
                                      norm=m.nn.LayerNorm(8) if norm else None)
        enc.load_state_dict({k: m.tensor(v.detach().numpy())
                             for k, v in ref.state_dict().items()})
    enc.train(train)
    src = m.tensor(np.random.RandomState(3).randn(2, 5, 8).astype(np.float32))
    if kpm is None:
        kpm = np.array([[False] * 3 + [True] * 2, [False] * 5])
    args = dict(src_key_padding_mask=m.tensor(kpm),
                mask=None if mask is None else m.tensor(mask))
    if grad:
        return enc(src, **args).detach().numpy()
    with m.no_grad():
        return enc(src, **args).numpy()


@needs_torch
@pytest.mark.parametrize("kw", [
    dict(), dict(norm=True), dict(activation="gelu"), dict(grad=True),
    dict(dropout=0.0, train=True),
    dict(mask=np.zeros((5, 5), bool)), dict(norm_first=True),
    dict(kpm=np.array([[True] + [False] * 4, [False] * 5])),
    dict(kpm=np.array([[True] * 5, [False] * 5])),
    dict(kpm=np.where([[False] * 3 + [True] * 2, [False] * 5], -np.inf, 0).astype(np.float32))])
def test_transformer_encoder_inference_zeroes_padding_like_torch(kw):
    """torch runs inference on a nested (unpadded) batch, so padded positions come out 0."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = _both(lambda m: _encoder_out(m, **kw))
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@needs_torch
@pytest.mark.parametrize("kw", [dict(norm_first=True), dict(batch_first=False),
                                dict(activation=lambda x: x), dict(bias=False)])
def test_transformer_encoder_nested_warning_like_torch(kw):
    import warnings

    def caught(m):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            enc = m.nn.TransformerEncoder(m.nn.TransformerEncoderLayer(8, 2, 16, **kw), 2)
        return [str(x.message) for x in w], enc.use_nested_tensor
    assert caught(chainrule) == caught(__import__("torch"))


@needs_torch
@pytest.mark.parametrize("n,reps,rank,drop", [
    (10, 3, 1, False), (10, 3, 1, True), (10, 4, 3, False), (3, 5, 4, False), (7, 2, 0, True),
    (0, 2, 1, False), (1, 3, 2, False)])
def test_distributed_sampler_unshuffled_matches_torch(n, reps, rank, drop):
    def run(m):
        s = m.utils.data.DistributedSampler(range(n), num_replicas=reps, rank=rank,
                                            shuffle=False, drop_last=drop)
        return list(s), len(s), s.total_size, s.num_samples
    a, b = _both(run)
    assert a == b


@needs_torch
def test_distributed_sampler_shuffle_and_errors():
    D = chainrule.utils.data.DistributedSampler
    parts = [list(D(range(11), num_replicas=3, rank=r, seed=3)) for r in range(3)]
    assert sorted(set(sum(parts, []))) == list(range(11)) and [len(p) for p in parts] == [4] * 3
    s = D(range(11), num_replicas=3, rank=2, seed=5)
    first = list(s)
    assert list(s) == first
    s.set_epoch(1)
    assert list(s) != first and len(list(s)) == 4 and set(s) <= set(range(11))
    _raises_same(lambda m: m.utils.data.DistributedSampler(range(5)))
    _raises_same(lambda m: m.utils.data.DistributedSampler(range(5), num_replicas=2, rank=2))
    loader = chainrule.utils.data.DataLoader(range(10), batch_size=2,
                                             sampler=D(range(10), 2, 0, shuffle=False))
    assert [b.tolist() for b in loader] == [[0, 2], [4, 6], [8]]


@needs_torch
def test_lr_scheduler_old_base_name():
    import torch

    def run(m):
        class Warmup(m.optim.lr_scheduler._LRScheduler):
            def get_lr(self):
                return [b * min(1.0, (self.last_epoch + 1) / 3) for b in self.base_lrs]
        opt = m.optim.SGD([m.nn.Parameter(m.ones(1))], lr=1.0)
        sched = Warmup(opt)
        out = []
        for _ in range(4):
            opt.step()
            sched.step()
            out.append(sched.get_last_lr()[0])
        return out
    assert run(chainrule) == run(torch)


@needs_torch
@pytest.mark.parametrize("n,declared,bs,workers", [
    (7, 5, None, 0), (7, 5, 2, 0), (7, 4, 2, 0), (5, 5, None, 0), (7, 5, None, 2),
    (8, 5, 2, 2)])
def test_iterable_dataset_overrun_warning_like_torch(n, declared, bs, workers):
    """After len(loader), fetching more than the IterableDataset's __len__ warns (torch
    counts fetched batches against the sample count)."""
    import re
    import warnings

    def run(m):
        class Stream(m.utils.data.IterableDataset):
            def __iter__(self):
                return iter(range(n))

            def __len__(self):
                return declared
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loader = m.utils.data.DataLoader(Stream(), batch_size=bs, num_workers=workers)
            size = len(loader)
            fetched = len(list(loader))
        texts = [re.sub(r"0x[0-9a-f]+|\w+\.Stream", "X", str(w.message)) for w in caught
                 if "IterableDataset" in str(w.message)]
        return size, fetched, texts
    a, b = _both(run)
    assert a == b


@needs_torch
def test_state_dict_positional_args_warn_like_torch():
    import warnings

    def run(m):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            keys = list(m.nn.Linear(1, 1).state_dict(None, "p.").keys())
        return keys, [(w.category.__name__, str(w.message)) for w in caught]
    a, b = _both(run)
    assert a == b


@needs_torch
def test_stack_dataset_getitems_like_torch():
    class Batched:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return -i

        def __getitems__(self, idx):
            return [i * 10 for i in idx]

    def norm(x):
        return [tuple(int(v) for v in s) if isinstance(s, tuple) else
                {k: int(v) for k, v in s.items()} for s in x]

    def run(m):
        D = m.utils.data
        pos = D.StackDataset(m.arange(4), Batched()).__getitems__([0, 3])
        kw = D.StackDataset(a=m.arange(4) * 2, b=Batched()).__getitems__([1, 2])
        loader = [[t.tolist() for t in b]
                  for b in D.DataLoader(D.StackDataset(m.arange(4), Batched()), batch_size=2)]
        return norm(pos), norm(kw), loader
    a, b = _both(run)
    assert a == b


@needs_torch
@pytest.mark.parametrize("tdt", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("idt", ["float32", "float64"])
def test_bce_with_logits_rejects_integer_targets_like_torch(tdt, idt):
    _raises_same(lambda m: m.nn.BCEWithLogitsLoss()(
        m.zeros(2, 3, dtype=getattr(m, idt)), m.ones(2, 3, dtype=getattr(m, tdt))))


def _train_opt(m, name, kw, steps=8, reload_at=None):
    import torch
    rng = np.random.RandomState(0)
    x, y = m.tensor(rng.randn(8, 3)), m.tensor(rng.randn(8, 2))
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4, dtype=torch.float64), torch.nn.Tanh(),
                              torch.nn.Linear(4, 2, dtype=torch.float64))
    net = m.nn.Sequential(m.nn.Linear(3, 4, dtype=m.float64), m.nn.Tanh(),
                          m.nn.Linear(4, 2, dtype=m.float64))
    net.load_state_dict({k: m.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    groups = lambda: [{"params": net[0].parameters()}, {"params": net[2].parameters(), "lr": 0.05}]
    opt = getattr(m.optim, name)(groups(), **kw)
    for i in range(steps):
        opt.zero_grad()
        ((net(x) - y) ** 2).mean().backward()
        opt.step()
        if i == reload_at:
            state = opt.state_dict()
            opt = getattr(m.optim, name)(groups(), **kw)
            opt.load_state_dict(state)
    state = opt.state_dict()
    scalars = {k: float(v) for k, v in state["state"][0].items() if v.dim() == 0}
    return ([p.detach().numpy() for p in net.parameters()], scalars,
            [sorted(s) for s in state["state"].values()], state["param_groups"])


@needs_torch
@pytest.mark.parametrize("name,kw", [
    ("Rprop", dict()), ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
    ("Rprop", dict(maximize=True)), ("ASGD", dict()),
    ("ASGD", dict(lr=0.1, lambd=1e-2, alpha=0.5, t0=3, weight_decay=0.1)),
    ("ASGD", dict(lr=0.1, t0=0, maximize=True)), ("Adafactor", dict()),
    ("Adafactor", dict(lr=0.05, beta2_decay=-0.5, eps=(1e-20, 1e-2), d=1.5, weight_decay=0.1)),
    ("Adafactor", dict(maximize=True))])
@pytest.mark.parametrize("reload_at", [None, 2])
def test_rprop_asgd_adafactor_match_torch(name, kw, reload_at):
    a, b = _both(lambda m: _train_opt(m, name, kw, reload_at=reload_at))
    for x, y in zip(a[0], b[0]):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)
    assert a[1:] == b[1:]


@needs_torch
def test_rprop_asgd_errors_and_repr():
    one = lambda m: [m.nn.Parameter(m.ones(2))]
    _raises_same(lambda m: m.optim.Rprop(one(m), etas=(1.5, 1.2)))
    _raises_same(lambda m: m.optim.Rprop(one(m), lr=-1))
    _raises_same(lambda m: m.optim.ASGD(one(m), weight_decay=-1))
    for kw in (dict(beta2_decay=0.5), dict(eps=(-1, 1e-3)), dict(d=0.5), dict(lr=-1)):
        _raises_same(lambda m: m.optim.Adafactor(one(m), **kw))
    a, b = _both(lambda m: (repr(m.optim.Rprop(one(m))), repr(m.optim.ASGD(one(m))),
                            repr(m.optim.Adafactor(one(m)))))
    assert a == b


@needs_torch
def test_adafactor_factored_3d_param_matches_torch():
    def run(m):
        w = m.tensor(np.random.RandomState(0).randn(2, 3, 4), requires_grad=True)
        opt = m.optim.Adafactor([w], lr=0.05)
        for _ in range(4):
            opt.zero_grad()
            (w ** 3).sum().backward()
            opt.step()
        return w.detach().numpy(), {k: tuple(v.shape) for k, v in opt.state[w].items()}
    a, b = _both(run)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-10, atol=1e-12)
    assert a[1] == b[1]


def _fuse_case(m, kind):
    import torch
    torch.manual_seed(0)
    if kind.startswith("conv"):
        transpose = kind == "convT"
        ref = (torch.nn.ConvTranspose2d(2, 3, 3) if transpose else torch.nn.Conv2d(2, 3, 3,
                                                                                  bias=False))
        bn_ref = torch.nn.BatchNorm2d(3)
        x = np.random.RandomState(1).randn(2, 2, 5, 5).astype(np.float32)
    else:
        transpose = False
        ref, bn_ref = torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4, affine=(kind == "linear"))
        x = np.random.RandomState(1).randn(5, 3).astype(np.float32)
    with torch.no_grad():
        bn_ref(torch.tensor(np.random.RandomState(2).randn(*bn_ref_shape(kind)).astype(
            np.float32) * 3 + 1))
    layer, bn = ref, bn_ref
    if m is chainrule:
        layer = {"conv": lambda: m.nn.Conv2d(2, 3, 3, bias=False),
                 "convT": lambda: m.nn.ConvTranspose2d(2, 3, 3),
                 "linear": lambda: m.nn.Linear(3, 4),
                 "linear_noaffine": lambda: m.nn.Linear(3, 4)}[kind]()
        bn = (m.nn.BatchNorm2d(3) if kind.startswith("conv")
              else m.nn.BatchNorm1d(4, affine=(kind == "linear")))
        for src, dst in ((ref, layer), (bn_ref, bn)):
            dst.load_state_dict({k: m.tensor(v.numpy()) for k, v in src.state_dict().items()})
    layer.eval(), bn.eval()
    U = m.nn.utils
    fused = (U.fuse_conv_bn_eval(layer, bn, transpose=transpose) if kind.startswith("conv")
             else U.fuse_linear_bn_eval(layer, bn))
    out = fused(m.tensor(x))
    return (out.detach().numpy(), [(n, p.requires_grad, type(p).__name__, str(p.dtype)[-7:])
                                   for n, p in fused.named_parameters()])


def bn_ref_shape(kind):
    return (4, 3, 2, 2) if kind.startswith("conv") else (6, 4)


@needs_torch
@pytest.mark.parametrize("kind", ["conv", "convT", "linear"])
def test_fuse_bn_eval_matches_torch(kind):
    a, b = _both(lambda m: _fuse_case(m, kind))
    np.testing.assert_allclose(a[0], b[0], rtol=1e-5, atol=1e-5)
    assert a[1] == b[1]


@needs_torch
def test_fusion_and_skip_init_errors():
    _raises_same(lambda m: m.nn.utils.fuse_conv_bn_eval(m.nn.Conv2d(1, 2, 1),
                                                        m.nn.BatchNorm2d(2)))
    _raises_same(lambda m: m.nn.utils.fuse_linear_bn_eval(m.nn.Linear(1, 2).eval(),
                                                          m.nn.BatchNorm1d(3).eval()))
    _raises_same(lambda m: m.nn.utils.fuse_conv_bn_eval(
        m.nn.Conv2d(1, 2, 1).eval(), m.nn.BatchNorm2d(2, track_running_stats=False).eval()))
    for m in _libs():   # a BatchNorm without affine cannot be folded into a Linear
        with pytest.raises(TypeError):
            m.nn.utils.fuse_linear_bn_eval(m.nn.Linear(3, 4).eval(),
                                           m.nn.BatchNorm1d(4, affine=False).eval())
    _raises_same(lambda m: m.nn.utils.skip_init(int))
    _raises_same(lambda m: m.nn.utils.skip_init(m.nn.ReLU))
    a, b = _both(lambda m: (tuple(m.nn.utils.skip_init(m.nn.Linear, 3, 2).weight.shape),
                            type(m.nn.utils.skip_init(m.nn.Conv1d, 1, 2, 3)).__name__))
    assert a == b


@needs_torch
def test_module_to_tensor_keyword():
    a, b = _both(lambda m: str(m.nn.Linear(2, 2).to(tensor=m.zeros(1, dtype=m.float64))
                               .weight.dtype).split(".")[-1])
    assert a == b == "float64"


@needs_torch
def test_data_classes_generic_like_torch():
    """Dataset[...]-style annotations (common in typed training code) work as in torch."""
    names = ["Dataset", "IterableDataset", "Sampler", "DataLoader", "Subset", "TensorDataset",
             "BatchSampler", "RandomSampler", "SequentialSampler", "ConcatDataset",
             "StackDataset", "ChainDataset", "DistributedSampler", "WeightedRandomSampler"]

    def run(m):
        out = []
        for n in names:
            try:
                getattr(m.utils.data, n)[int]
                out.append((n, "ok"))
            except TypeError:
                out.append((n, "TypeError"))
        return out
    a, b = _both(run)
    assert a == b

    class Pairs(chainrule.utils.data.Dataset[tuple]):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return chainrule.tensor([float(i)]), i
    assert [y.tolist() for _, y in chainrule.utils.data.DataLoader(Pairs(), batch_size=2)] == \
        [[0, 1], [2]]
    _raises_same(lambda m: m.utils.data.IterableDataset())


@needs_torch
@pytest.mark.parametrize("mod,name", [
    ("nn.modules.batchnorm", "_BatchNorm"), ("nn.modules.batchnorm", "_NormBase"),
    ("nn.modules.batchnorm", "BatchNorm2d"), ("nn.modules.instancenorm", "_InstanceNorm"),
    ("nn.modules.upsampling", "Upsample"), ("nn.modules.fold", "Unfold"),
    ("nn.modules.channelshuffle", "ChannelShuffle"), ("nn.common_types", "_size_2_t"),
    ("utils.data.distributed", "DistributedSampler"), ("optim.lr_scheduler", "_LRScheduler"),
    ("nn.utils.fusion", "fuse_conv_bn_eval")])
def test_torch_import_paths_exist(mod, name):
    """Import paths that user code (isinstance checks, type hints) reaches into."""
    import importlib
    getattr(importlib.import_module("torch." + mod), name)
    getattr(importlib.import_module("chainrule." + mod), name)


@needs_torch
def test_batchnorm_base_classes_like_torch():
    from torch.nn.modules.batchnorm import _BatchNorm as TB
    from torch.nn.modules.instancenorm import _InstanceNorm as TI

    from chainrule.nn.modules.batchnorm import _BatchNorm as CB
    from chainrule.nn.modules.instancenorm import _InstanceNorm as CI
    names = ["BatchNorm1d", "BatchNorm2d", "LazyBatchNorm1d", "InstanceNorm2d",
             "LazyInstanceNorm1d", "GroupNorm", "LayerNorm"]
    import torch
    assert [(issubclass(getattr(chainrule.nn, n), CB), issubclass(getattr(chainrule.nn, n), CI))
            for n in names] == \
        [(issubclass(getattr(torch.nn, n), TB), issubclass(getattr(torch.nn, n), TI))
         for n in names]


@needs_torch
def test_stateless_functional_call_deprecated_alias():
    import warnings

    def run(m):
        lin = m.nn.Linear(2, 1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = m.nn.utils.stateless.functional_call(
                lin, {"weight": m.ones(1, 2), "bias": m.zeros(1)}, (m.tensor([[1.0, 2.0]]),))
        return out.tolist(), [(w.category.__name__, str(w.message)) for w in caught]
    a, b = _both(run)
    assert a == b


@needs_torch
@pytest.mark.parametrize("offsets,last", [([0, 5], False), ([0, 4], True), ([0, 2, 1], False)])
def test_embedding_bag_bad_offsets_raise(offsets, last):
    def call(m):
        bag = m.nn.EmbeddingBag(5, 3, include_last_offset=last)
        return bag(m.tensor([1, 2, 3]), m.tensor(offsets))
    if offsets[-1] > 3:
        _raises_same(call)
    else:   # torch's text here is an internal check; the class must agree
        for m in _libs():
            with pytest.raises(RuntimeError):
                call(m)


@needs_torch
def test_chain_dataset_only_takes_iterable_datasets():
    _raises_same(lambda m: list(m.utils.data.ChainDataset([range(2)])))
    _raises_same(lambda m: len(m.utils.data.ChainDataset([range(2)])))


_MIXED_NORMS = {
    "ln x64 w32": lambda m, x, w: m.nn.functional.layer_norm(x.double(), (3,), w, w),
    "ln x32 w64": lambda m, x, w: m.nn.functional.layer_norm(x, (3,), w.double(), w.double()),
    "ln x64 b32": lambda m, x, w: m.nn.functional.layer_norm(x.double(), (3,), None, w),
    "gn x64 w32": lambda m, x, w: m.nn.functional.group_norm(x.double(), 1, w, w),
    "bn x64 w32": lambda m, x, w: m.nn.functional.batch_norm(x.double(), w * 0, w, w, w),
    "bn x64 stats32": lambda m, x, w: m.nn.functional.batch_norm(x.double(), w * 0, w),
    "bn x64 w64 stats32": lambda m, x, w: m.nn.functional.batch_norm(
        x.double(), w * 0, w, w.double(), w.double()),
    "bn x32 w64 train": lambda m, x, w: m.nn.functional.batch_norm(
        x, None, None, w.double(), w.double(), training=True),
    "module double input": lambda m, x, w: m.nn.BatchNorm1d(3)(x.double()),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(_MIXED_NORMS))
def test_norms_reject_mixed_dtypes_like_torch(case):
    """A float64 batch fed to a float32 model's norm layers is an error in torch too."""
    _raises_same(lambda m: _MIXED_NORMS[case](m, m.randn(2, 3), m.ones(3)))


@needs_torch
def test_norms_accept_half_input_with_float_params():
    for m in _libs():
        m.nn.functional.layer_norm(m.randn(2, 3).half(), (3,), m.ones(3), m.zeros(3))


@needs_torch
@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_rnn_input_dtype_mismatch_value_error(cls):
    _raises_same(lambda m: getattr(m.nn, cls)(3, 2)(m.ones(2, 1, 3, dtype=m.float64)))
    _raises_same(lambda m: getattr(m.nn, cls)(3, 2).double()(m.ones(2, 1, 3)))
