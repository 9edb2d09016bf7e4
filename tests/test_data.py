"""chainrule.utils.data: datasets, samplers, collation and DataLoader (also with worker
processes), compared with torch.utils.data where behaviour is deterministic."""
import collections
import os

import numpy as np
import pytest

import chainrule
from chainrule.utils import data as D
from conftest import HAVE_TORCH, needs_torch

if HAVE_TORCH:
    import torch
    import torch.utils.data as TD


def _plain(obj):
    """A library-neutral picture of a (nested) batch: tensors become (dtype, array)."""
    if isinstance(obj, chainrule.Tensor):
        return ("tensor", obj.dtype.name, obj.detach().numpy().tolist())
    if HAVE_TORCH and isinstance(obj, torch.Tensor):
        return ("tensor", str(obj.dtype).split(".")[1], obj.detach().numpy().tolist())
    if isinstance(obj, dict):
        return (type(obj).__name__, {k: _plain(v) for k, v in obj.items()})
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return (type(obj).__name__, [_plain(v) for v in obj])
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [_plain(v) for v in obj])
    return obj


def _lib(m):
    return D if m is chainrule else TD


Point = collections.namedtuple("Point", "x y")


def _samples(m):
    return [
        [m.tensor([1.0, 2.0]), m.tensor([3.0, 4.0])],
        [1.5, 2.5],
        [1, 2, 3],
        [True, False],
        [np.arange(3, dtype=np.int32), np.ones(3, dtype=np.int32)],
        [np.float32(1.5), np.float32(2.0)],
        [(m.tensor(1), "a"), (m.tensor(2), "b")],
        [Point(1, 2.0), Point(3, 4.0)],
        [{"x": m.tensor([1]), "y": [1, 2]}, {"x": m.tensor([2]), "y": [3, 4]}],
        [collections.OrderedDict(a=1), collections.OrderedDict(a=2)],
        [[np.zeros(2), 1], [np.ones(2), 0]],
        ["s", "t"],
        [m.tensor([1, 2], dtype=m.int32), m.tensor([3.0, 4.0])],
    ]


@needs_torch
@pytest.mark.parametrize("i", range(13))
def test_default_collate_matches_torch(i):
    ours = D.default_collate(_samples(chainrule)[i])
    theirs = TD.default_collate(_samples(torch)[i])
    assert _plain(ours) == _plain(theirs)


@needs_torch
def test_default_convert_matches_torch():
    for sample in [np.arange(3), {"a": np.zeros(2), "b": 1}, (np.ones(1), "x"),
                   Point(np.zeros(1), 2), [np.float64(1.5)], "str"]:
        assert _plain(D.default_convert(sample)) == _plain(TD.default_convert(sample))


def _raises_like_torch(fn):
    with pytest.raises(Exception) as ours:
        fn(chainrule)
    if HAVE_TORCH:
        with pytest.raises(Exception) as theirs:
            fn(torch)
        assert type(ours.value) is type(theirs.value)
        assert str(ours.value).replace("chainrule", "torch") == str(theirs.value)


BAD = {
    "collate-ragged": lambda m: _lib(m).default_collate([[1, 2], [3]]),
    "collate-object-array": lambda m: _lib(m).default_collate([np.array([None])] * 2),
    "collate-type": lambda m: _lib(m).default_collate([object(), object()]),
    "collate-shapes": lambda m: _lib(m).default_collate([m.zeros(2), m.zeros(3)]),
    "tensordataset-size": lambda m: _lib(m).TensorDataset(m.zeros(2), m.zeros(3)),
    "concat-empty": lambda m: _lib(m).ConcatDataset([]),
    "concat-iterable": lambda m: _lib(m).ConcatDataset([_lib(m).ChainDataset([])]),
    "concat-negative": lambda m: _lib(m).ConcatDataset([[1, 2]])[-3],
    "split-sum": lambda m: _lib(m).random_split(range(5), [2, 2]),
    "split-fraction": lambda m: _lib(m).random_split(range(5), [1.5, -0.5]),
    "random-replacement": lambda m: _lib(m).RandomSampler(range(3), replacement=1),
    "random-num-samples": lambda m: _lib(m).RandomSampler(range(3), num_samples=0),
    "weighted-num-samples": lambda m: _lib(m).WeightedRandomSampler([1.0], num_samples=True),
    "weighted-replacement": lambda m: _lib(m).WeightedRandomSampler([1.0], 2, replacement=0),
    "weighted-shape": lambda m: _lib(m).WeightedRandomSampler([[1.0]], 2),
    "batch-size": lambda m: _lib(m).BatchSampler(range(3), 0, False),
    "batch-drop-last": lambda m: _lib(m).BatchSampler(range(3), 2, 1),
    "loader-workers": lambda m: _lib(m).DataLoader(range(3), num_workers=-1),
    "loader-timeout": lambda m: _lib(m).DataLoader(range(3), timeout=-1),
    "loader-prefetch": lambda m: _lib(m).DataLoader(range(3), prefetch_factor=2),
    "loader-persistent": lambda m: _lib(m).DataLoader(range(3), persistent_workers=True),
    "loader-sampler-shuffle": lambda m: _lib(m).DataLoader(range(3), shuffle=True,
                                                           sampler=range(3)),
    "loader-batch-sampler": lambda m: _lib(m).DataLoader(range(3), batch_size=2,
                                                         batch_sampler=[[0]]),
    "loader-none-drop-last": lambda m: _lib(m).DataLoader(range(3), batch_size=None,
                                                          drop_last=True),
    "loader-iterable-shuffle": lambda m: _lib(m).DataLoader(_lib(m).ChainDataset([]),
                                                            shuffle=True),
    "loader-iterable-sampler": lambda m: _lib(m).DataLoader(_lib(m).ChainDataset([]),
                                                            sampler=[0]),
    "loader-setattr": lambda m: setattr(_lib(m).DataLoader(range(3)), "batch_size", 2),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_errors_match_torch(case):
    _raises_like_torch(BAD[case])


# -- datasets ---------------------------------------------------------------------------------
def test_tensor_dataset_subset_concat():
    x = chainrule.arange(12).view(6, 2)
    y = chainrule.arange(6)
    ds = D.TensorDataset(x, y)
    assert len(ds) == 6 and ds[2][0].tolist() == [4, 5] and ds[2][1].item() == 2
    sub = D.Subset(ds, [5, 1])
    assert len(sub) == 2 and sub[0][1].item() == 5
    assert [s[1].item() for s in sub[[1, 0]]] == [1, 5]
    cat = ds + sub
    assert isinstance(cat, D.ConcatDataset) and len(cat) == 8
    assert cat[6][1].item() == 5 and cat[-1][1].item() == 1 and cat[-8][1].item() == 0
    both = D.StackDataset(a=[1, 2], b="xy")
    assert both[1] == {"a": 2, "b": "y"} and len(both) == 2


def test_chain_dataset():
    class It(D.IterableDataset):
        def __iter__(self):
            return iter(range(3))
    assert list(It() + It()) == [0, 1, 2, 0, 1, 2]


@needs_torch
@pytest.mark.parametrize("lengths", [[3, 7], [0.5, 0.5], [0.33, 0.33, 0.34], [0.1, 0.2, 0.7],
                                     [0.25, 0.25, 0.25, 0.25], [1, 0, 9]])
def test_random_split_lengths_match_torch(lengths):
    with pytest.warns(UserWarning) if 0 in lengths and isinstance(lengths[0], float) else \
            _nothing():
        ours = D.random_split(range(10), lengths, generator=chainrule.Generator().manual_seed(1))
    theirs = TD.random_split(range(10), lengths, generator=torch.Generator().manual_seed(1))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    items = sorted(i for s in ours for i in s)
    assert items == list(range(10))


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_random_split_is_seeded():
    a = D.random_split(range(20), [0.5, 0.5], generator=chainrule.Generator().manual_seed(7))
    b = D.random_split(range(20), [0.5, 0.5], generator=chainrule.Generator().manual_seed(7))
    c = D.random_split(range(20), [0.5, 0.5], generator=chainrule.Generator().manual_seed(8))
    assert [list(s) for s in a] == [list(s) for s in b] != [list(s) for s in c]


# -- samplers ---------------------------------------------------------------------------------
def test_random_sampler():
    g = chainrule.Generator().manual_seed(0)
    perm = list(D.RandomSampler(range(10), generator=g))
    assert sorted(perm) == list(range(10)) and perm != list(range(10))
    again = list(D.RandomSampler(range(10), generator=chainrule.Generator().manual_seed(0)))
    assert perm == again
    s = D.RandomSampler(range(4), num_samples=10)
    idx = list(s)
    assert len(s) == len(idx) == 10
    assert sorted(idx[:4]) == [0, 1, 2, 3] and sorted(idx[4:8]) == [0, 1, 2, 3]
    r = list(D.RandomSampler(range(3), replacement=True, num_samples=70))
    assert len(r) == 70 and set(r) == {0, 1, 2}
    chainrule.manual_seed(5)
    x = list(D.RandomSampler(range(10)))
    chainrule.manual_seed(5)
    assert list(D.RandomSampler(range(10))) == x


def test_subset_and_weighted_samplers():
    g = chainrule.Generator().manual_seed(0)
    assert sorted(D.SubsetRandomSampler([9, 4, 7], generator=g)) == [4, 7, 9]
    w = D.WeightedRandomSampler([0.0, 3.0, 0.0, 1.0], 400, generator=g)
    draws = list(w)
    assert len(w) == 400 and set(draws) == {1, 3} and 0.6 < draws.count(1) / 400 < 0.9
    once = list(D.WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False))
    assert sorted(once) == [0, 1, 2]


@needs_torch
@pytest.mark.parametrize("n,bs,drop", [(10, 3, False), (10, 3, True), (9, 3, True),
                                       (2, 5, False), (2, 5, True)])
def test_batch_sampler_matches_torch(n, bs, drop):
    ours = D.BatchSampler(D.SequentialSampler(range(n)), bs, drop)
    theirs = TD.BatchSampler(TD.SequentialSampler(range(n)), bs, drop)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


# -- DataLoader -------------------------------------------------------------------------------
def _dataset(m, n=11):
    return m.utils.data.TensorDataset(m.arange(2.0 * n).view(n, 2), m.arange(n))


@needs_torch
@pytest.mark.parametrize("kwargs", [dict(), dict(batch_size=4), dict(batch_size=4,
                                                                     drop_last=True),
                                    dict(batch_size=None), dict(batch_size=20)])
def test_loader_sequential_matches_torch(kwargs):
    ours = list(D.DataLoader(_dataset(chainrule), **kwargs))
    theirs = list(TD.DataLoader(_dataset(torch), **kwargs))
    assert _plain(ours) == _plain(theirs)
    assert len(D.DataLoader(_dataset(chainrule), **kwargs)) == \
        len(TD.DataLoader(_dataset(torch), **kwargs))


@needs_torch
def test_loader_samplers_and_collate_fn_match_torch():
    bs = [[3, 1], [0], [2, 4, 5]]
    ours = list(D.DataLoader(_dataset(chainrule), batch_sampler=bs))
    theirs = list(TD.DataLoader(_dataset(torch), batch_sampler=bs))
    assert _plain(ours) == _plain(theirs)
    ours = list(D.DataLoader(_dataset(chainrule), sampler=[4, 2, 9], batch_size=2,
                             collate_fn=lambda b: [s[1].item() for s in b]))
    assert ours == [[4, 2], [9]]

    class Items(D.Dataset):
        def __len__(self):
            return 5

        def __getitems__(self, idx):
            return [{"i": i, "sq": np.array([i * i])} for i in idx]
    batch = next(iter(D.DataLoader(Items(), batch_size=3)))
    assert batch["i"].tolist() == [0, 1, 2] and batch["sq"].tolist() == [[0], [1], [4]]


def test_loader_shuffle_is_seeded_by_generator():
    ds = _dataset(chainrule, 13)

    def epoch(seed, **kw):
        dl = D.DataLoader(ds, batch_size=4, shuffle=True,
                          generator=chainrule.Generator().manual_seed(seed), **kw)
        return [y.tolist() for _, y in dl]
    a, b, c = epoch(0), epoch(0), epoch(1)
    assert a == b != c
    assert sorted(sum(a, [])) == list(range(13))
    assert all(len(y) == 4 for y in epoch(0, drop_last=True))


class _Records(D.Dataset):
    """Samples carry mixed types; also reports which process produced them."""

    def __len__(self):
        return 23

    def __getitem__(self, i):
        info = D.get_worker_info()
        return {"x": chainrule.tensor([i, -i], dtype=chainrule.float64),
                "np": np.full(2, i, dtype=np.int16), "label": i % 3, "name": f"s{i}",
                "pair": (float(i), True), "worker": -1 if info is None else info.id}


def _strip_worker(batch):
    return {k: v for k, v in batch.items() if k != "worker"}


@pytest.mark.parametrize("kwargs", [dict(batch_size=4, shuffle=True),
                                    dict(batch_size=5, shuffle=True, drop_last=True),
                                    dict(batch_size=None),
                                    dict(batch_size=3, shuffle=True, prefetch_factor=1)])
def test_workers_give_the_same_batches_in_the_same_order(kwargs):
    def run(workers):
        extra = {} if workers == 0 else {"num_workers": workers}
        if workers == 0:
            extra.pop("prefetch_factor", None)
            kw = {k: v for k, v in kwargs.items() if k != "prefetch_factor"}
        else:
            kw = kwargs
        g = chainrule.Generator().manual_seed(42)
        return list(D.DataLoader(_Records(), generator=g, **kw, **extra))
    single = run(0)
    multi = run(3)
    assert len(single) == len(multi) > 0
    assert _plain([_strip_worker(b) for b in single]) == _plain([_strip_worker(b)
                                                                 for b in multi])
    assert all(isinstance(b["x"], chainrule.Tensor) for b in multi)
    workers = [b["worker"] if isinstance(b["worker"], int) else b["worker"].tolist()[0]
               for b in multi]
    assert set(workers) == {0, 1, 2}
    assert workers[:3] == [0, 1, 2]


def test_worker_info_seed_and_init_fn():
    class Info(D.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = D.get_worker_info()
            return [info.id, info.num_workers, info.seed, int(chainrule.initial_seed()),
                    os.getpid(), int(os.environ.get("CR_INIT", "-1")),
                    info.dataset is not None]

    def init(worker_id):
        os.environ["CR_INIT"] = str(100 + worker_id)
    rows = [b[0] for b in D.DataLoader(Info(), batch_size=1, num_workers=2,
                                       worker_init_fn=init, collate_fn=lambda b: b)]
    ids = [r[0] for r in rows]
    assert ids == [0, 1, 0, 1]
    assert all(r[1] == 2 and r[6] for r in rows)
    seeds = {r[0]: r[2] for r in rows}
    assert seeds[1] == seeds[0] + 1
    assert all(r[3] == r[2] for r in rows)
    assert all(r[5] == 100 + r[0] for r in rows)
    assert os.getpid() not in {r[4] for r in rows}
    assert D.get_worker_info() is None


def test_worker_info_is_read_only():
    info = D.WorkerInfo(id=0, num_workers=1, seed=1, dataset=None)
    with pytest.raises(RuntimeError, match="Cannot assign attributes"):
        info.id = 3
    assert repr(info).startswith("WorkerInfo(id=0, num_workers=1")


class _Sharded(D.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = D.get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class _TorchSharded(TD.IterableDataset if HAVE_TORCH else object):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = TD.get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


@needs_torch
@pytest.mark.parametrize("kwargs", [dict(batch_size=2), dict(batch_size=3, drop_last=True),
                                    dict(batch_size=None)])
def test_iterable_dataset_with_workers_matches_torch(kwargs):
    ours = [_plain(b) for b in D.DataLoader(_Sharded(11), num_workers=2, **kwargs)]
    theirs = [_plain(b) for b in TD.DataLoader(_TorchSharded(11), num_workers=2, **kwargs)]
    assert ours == theirs
    assert [_plain(b) for b in D.DataLoader(_Sharded(11), **kwargs)] == \
        [_plain(b) for b in TD.DataLoader(_TorchSharded(11), **kwargs)]


class _Failing(D.Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 3:
            raise ValueError(f"bad sample {i}")
        return i


def test_worker_exception_is_reraised_with_its_type():
    dl = D.DataLoader(_Failing(), batch_size=2, num_workers=2)
    it = iter(dl)
    assert next(it).tolist() == [0, 1]
    with pytest.raises(ValueError, match="Caught ValueError in DataLoader worker process 1"):
        next(it)
    with pytest.raises(ValueError, match="bad sample 3"):
        list(D.DataLoader(_Failing(), batch_size=2))


class _Crash(D.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            os._exit(3)
        return i


def test_dead_worker_is_reported():
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        list(D.DataLoader(_Crash(), batch_size=1, num_workers=1))


class _Slow(D.Dataset):
    def __init__(self, fd):
        self.fd = fd

    def __len__(self):
        return 2

    def __getitem__(self, i):
        # blocks until the test writes to the pipe (no clock a test may have patched)
        return (i, os.read(self.fd, 1), os.getpid())


def test_timeout():
    import time
    r, w = os.pipe()
    t0 = time.monotonic()
    try:
        batch = next(iter(D.DataLoader(_Slow(r), num_workers=1, timeout=0.3)))
    except RuntimeError as e:
        assert "timed out after 0.3 seconds" in str(e)
    else:
        pytest.fail(f"no timeout: got {batch!r} after {time.monotonic() - t0:.2f} s "
                    f"(test pid {os.getpid()})")
    finally:
        os.write(w, b"xx")
        os.close(w)
        os.close(r)


def test_unpicklable_batch_becomes_an_error():
    dl = D.DataLoader(range(4), batch_size=2, num_workers=1, collate_fn=lambda b: lambda: b)
    with pytest.raises(Exception, match="picklable"):
        next(iter(dl))


def test_persistent_workers_and_early_break():
    dl = D.DataLoader(_dataset(chainrule, 9), batch_size=2, num_workers=2,
                      persistent_workers=True)
    first = [y.tolist() for _, y in dl]
    it = iter(dl)
    next(it)
    second = [y.tolist() for _, y in dl]
    assert first == second == [[0, 1], [2, 3], [4, 5], [6, 7], [8]]
    pids = {w.pid for w in dl._iterator._workers}
    assert [y.tolist() for _, y in dl] == first
    assert {w.pid for w in dl._iterator._workers} == pids


def test_out_of_order_delivery_keeps_every_batch():
    dl = D.DataLoader(_dataset(chainrule, 10), batch_size=2, num_workers=2, in_order=False)
    got = sorted(y.tolist() for _, y in dl)
    assert got == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]


def test_iterator_can_be_abandoned():
    dl = D.DataLoader(_dataset(chainrule, 40), batch_size=2, num_workers=2)
    it = iter(dl)
    next(it)
    workers = it._workers
    del it
    for w in workers:
        w.join(timeout=10)
        assert not w.is_alive()


@pytest.mark.parametrize("method", ["spawn"])
def test_non_fork_start_method_ships_tensor_datasets(method):
    import pickle
    ds = _dataset(chainrule, 7)
    g = chainrule.Generator
    ours = [y.tolist() for _, y in D.DataLoader(ds, batch_size=3, shuffle=True,
                                                generator=g().manual_seed(1), num_workers=1,
                                                multiprocessing_context=method)]
    ref = [y.tolist() for _, y in D.DataLoader(ds, batch_size=3, shuffle=True,
                                               generator=g().manual_seed(1))]
    assert ours == ref
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(chainrule.ones(1))


def test_tensor_dataset_batches_equal_the_generic_collate_path():
    ds = _dataset(chainrule, 10)
    custom = [[3, -1, 0], [5], [2, 2]]
    fast = list(D.DataLoader(ds, batch_sampler=custom))
    slow = list(D.DataLoader(ds, batch_sampler=custom, collate_fn=lambda b: D.default_collate(b)))
    assert _plain(fast) == _plain(slow)
