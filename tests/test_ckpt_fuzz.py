"""Audit of chainrule.save / chainrule.load (issue 5): a seeded fuzz of valid checkpoints
(byte flips, truncations, splices, and header/tree mutations re-signed so they pass the
checksum), plus one targeted test per edge case and per problem the audit found."""
import builtins
import collections
import io
import json
import math
import os
import pickle
import signal
import struct
import sys
import threading
import tracemalloc

import numpy as np
import pytest

import chainrule
from chainrule import serialization
from chainrule.serialization import CheckpointError
from conftest import needs_torch

pytest.importorskip("safetensors.numpy")      # chainrule.save writes through it

_SLACK = 256 * 1024     # Python-object overhead on top of the file size (small headers only)


# -- helpers ----------------------------------------------------------------------------------
def _same(a, b):
    """Deep equality of types, dtypes, values (NaN-aware, sign of zero), flags (a view loads
    as a plain Tensor: views are of a private Tensor subclass)."""
    if isinstance(a, chainrule.Tensor):
        P = chainrule.nn.Parameter
        if not isinstance(b, chainrule.Tensor) or isinstance(a, P) != isinstance(b, P):
            return False
        x, y = a.detach().numpy(), b.detach().numpy()
        return a.dtype == b.dtype and a.shape == b.shape and \
            a.requires_grad == b.requires_grad and \
            np.array_equal(x, y, equal_nan=a.is_floating_point()) and \
            np.array_equal(np.signbit(x), np.signbit(y))
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or \
            (a == b and math.copysign(1, a) == math.copysign(1, b))
    return a == b


def _dump(obj):
    buf = io.BytesIO()
    chainrule.save(obj, buf)
    return buf.getvalue()


def _load_bytes(data):
    return chainrule.load(io.BytesIO(data))


def _rt(obj):
    return _load_bytes(_dump(obj))


def _split(data):
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + n]), data[8 + n:]


def _join(header, body=b""):
    blob = json.dumps(header).encode() if not isinstance(header, bytes) else header
    return struct.pack("<Q", len(blob)) + blob + body


def _signed(tree, arrays=None, codes=None, entries=None, body=b""):
    """A file whose object tree passes the checksum (the checksum is not a signature, so an
    attacker can always do this)."""
    text = tree if isinstance(tree, str) else json.dumps(tree)
    digest = serialization._digest(arrays or {}, codes or {}, text)
    header = dict(entries or {})
    header["__metadata__"] = {"chainrule.tree": text, "chainrule.sha256": digest}
    return _join(header, body)


@pytest.fixture
def deadline():
    """Fail (rather than hang) past the given number of seconds."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda s: None
        return

    def on_alarm(*_):
        raise TimeoutError("chainrule.load hung")
    old = signal.signal(signal.SIGALRM, on_alarm)
    yield lambda s: signal.setitimer(signal.ITIMER_REAL, s)
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, old)


@pytest.fixture
def no_code(monkeypatch):
    _guard_code(monkeypatch)


def _guard_code(monkeypatch):
    """Any unpickling, eval, exec or import of a module not already loaded fails the test."""
    def boom(*args, **kwargs):
        raise AssertionError("the loader ran code from the file")
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, boom)
    monkeypatch.setattr(builtins, "eval", boom)
    monkeypatch.setattr(builtins, "exec", boom)
    real_import = builtins.__import__

    def guarded_import(name, *args, **kwargs):
        level = args[3] if len(args) > 3 else kwargs.get("level", 0)
        if level == 0 and name not in sys.modules:
            raise AssertionError(f"the loader imported {name}")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", guarded_import)


def _checkpoint():
    g = chainrule.Generator().manual_seed(0)
    w = chainrule.nn.Parameter(chainrule.randn(3, 2, generator=g))
    return {"model": {"w": w, "b": chainrule.zeros(2),
                      "n": chainrule.tensor([1, 2], dtype=chainrule.int64)},
            "opt": {"state": {0: {"step": chainrule.tensor(3.0),
                                  "exp_avg": chainrule.ones(3, 2)}},
                    "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0],
                                      "foreach": None, "amsgrad": False}]},
            "tied": w, "half": chainrule.tensor([1.0, -0.0, float("inf")]).half(),
            "mask": chainrule.tensor([True, False]), "tag": "run-1", "blob": b"\x00\x80",
            "big": 3 ** 70, "nan": float("nan")}


# -- fuzz -------------------------------------------------------------------------------------
def _byte_mutations(data, rng, count):
    n = len(data)
    for i in range(count):
        kind = i % 6
        d = bytearray(data)
        if kind == 0:                               # 1-4 random byte flips
            for _ in range(int(rng.integers(1, 5))):
                d[int(rng.integers(n))] ^= int(rng.integers(1, 256))
        elif kind == 1:                             # truncation
            d = d[:int(rng.integers(n))]
        elif kind == 2:                             # random bytes spliced in
            at = int(rng.integers(n))
            d[at:at] = rng.bytes(int(rng.integers(1, 16)))
        elif kind == 3:                             # a span deleted
            at = int(rng.integers(n))
            del d[at:at + int(rng.integers(1, 32))]
        elif kind == 4:                             # the header length field rewritten
            lengths = [0, 1, 2, n, n - 8, 2 ** 63, 2 ** 64 - 1, int(rng.integers(2 ** 16))]
            d[:8] = struct.pack("<Q", lengths[int(rng.integers(len(lengths)))])
        else:                                       # trailing garbage
            d += rng.bytes(int(rng.integers(1, 64)))
        yield bytes(d)


def test_fuzz_bytes_load_identically_or_raise_checkpoint_error(deadline, no_code):
    original = _checkpoint()
    data = _dump(original)
    rng = np.random.default_rng(5)
    deadline(60)
    outcomes = collections.Counter()
    for corrupt in _byte_mutations(data, rng, 600):
        try:
            back = _load_bytes(corrupt)
        except CheckpointError as e:
            assert str(e).startswith("chainrule.load: ")
            outcomes["error"] += 1
            continue
        assert _same(back, original), "a corrupted file loaded with different content"
        outcomes["same"] += 1
    for start in (b"\x80\x02", b"PK\x03\x04", b"\x93NUMPY", b"{"):    # short prefixes
        for cut in range(12):
            with pytest.raises(CheckpointError):
                _load_bytes((start + data)[:cut])
    assert outcomes["error"] >= 550, outcomes


_JUNK = [None, True, 0, -1, 1.5, "", "x", [], {}, [[]], {"T": []}, {"T": {}}, {"T": "nope"},
         {"N": 3}, {"I": "zz"}, {"I": []}, {"B": "!!"}, {"BA": 1}, {"F": "nan2"}, {"dt": "os"},
         {"D": [[[], 1]]}, {"D": [[{"L": []}, 1]]}, {"D": [1]}, {"L": {}}, {"U": 1},
         {"T": "model.w", "g": 2}, {"T": "model.w", "a": -1}, {"T": "model.w", "P": []},
         {"C": [["a", "b"]]}, {"O": [[1, 2, 3]]}, 2 ** 80, -0.0, {"x": 1, "y": 2},
         {"T": "model.n", "g": 1}]


def _mutate_tree(node, rng):
    """Replace one random node of a JSON tree by junk (in place when possible)."""
    if isinstance(node, list) and node and rng.random() < 0.7:
        i = int(rng.integers(len(node)))
        node[i] = _mutate_tree(node[i], rng)
        return node
    if isinstance(node, dict) and node and rng.random() < 0.7:
        k = list(node)[int(rng.integers(len(node)))]
        node[k] = _mutate_tree(node[k], rng)
        return node
    return json.loads(json.dumps(_JUNK[int(rng.integers(len(_JUNK)))]))


def _mutate_entry(header, rng):
    names = [k for k in header if k != "__metadata__"]
    info = header[names[int(rng.integers(len(names)))]]
    field = ["dtype", "shape", "data_offsets", None][int(rng.integers(4))]
    values = {"dtype": ["F64", "I32", "BF16", "U16", "F8_E4M3", "", 5, [], {}, None],
              "shape": [[], [0], [-1], [2 ** 62, 2 ** 62], [1.5], [True], "3", None, [[2]],
                        [2 ** 40]],
              "data_offsets": [[0], [0, 0], [-4, 4], [4, 0], [0, 2 ** 64], [1.0, 2.0], "0,4",
                               None, [0, 1, 2], [10 ** 30, 10 ** 30 + 4]]}
    if field is None:
        info["extra"] = 1
    else:
        choices = values[field]
        info[field] = choices[int(rng.integers(len(choices)))]


def test_fuzz_resigned_headers_raise_checkpoint_error_or_load(deadline, no_code):
    """Mutations that keep the checksum valid reach the decoder: each must load or raise
    CheckpointError, never another exception, never allocate past the file size."""
    data = _dump(_checkpoint())
    header, body = _split(data)
    entries = {k: v for k, v in header.items() if k != "__metadata__"}
    arrs, codes = _arrays_of(header, body)
    rng = np.random.default_rng(7)
    deadline(60)
    errors = 0
    for i in range(300):
        h = json.loads(json.dumps(entries))
        tree = json.loads(header["__metadata__"]["chainrule.tree"])
        if i % 3 == 2:
            _mutate_entry(h, rng)
            text = json.dumps(tree)
        else:
            text = json.dumps(_mutate_tree(tree, rng))
        # re-sign over the real tensors so the checksum never explains the error
        digest = serialization._digest(arrs, codes, text)
        h["__metadata__"] = {"chainrule.tree": text, "chainrule.sha256": digest}
        blob = _join(h, body)
        tracemalloc.start()
        try:
            _load_bytes(blob)
        except CheckpointError:
            errors += 1
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        assert peak <= len(blob) + _SLACK
    assert errors >= 150


def _arrays_of(header, body):
    arrays, codes = {}, {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        arr = np.frombuffer(body[begin:end], dtype=serialization._CODES[info["dtype"]])
        arrays[name] = arr.reshape(info["shape"])
        codes[name] = info["dtype"]
    return arrays, codes


# -- regressions: problems this audit found ---------------------------------------------------
def test_header_lengths_that_begin_like_a_pickle_still_load():
    """A header of 640 bytes starts the file with b"\\x80\\x02", a pickle's signature; such
    files (one in 256 of all checkpoints had a first byte 0x80) were refused as pickles."""
    found = set()
    for k in range(1400):
        data = _dump({"w": chainrule.ones(2), "pad": "x" * k})
        if data[0] == 0x80:
            found.add(struct.unpack("<Q", data[:8])[0])
            back = _load_bytes(data)
            assert back["pad"] == "x" * k and _same(back["w"], chainrule.ones(2))
    assert {640, 896, 1152, 1408} <= found


@pytest.mark.parametrize("dtype", [[], {}, None, 3, ["F32"]])
def test_non_string_dtype_raises_checkpoint_error(dtype):
    entry = {"dtype": dtype, "shape": [0], "data_offsets": [0, 0]}
    with pytest.raises(CheckpointError, match="unsupported dtype"):
        _load_bytes(_join({"a": entry}))


@pytest.mark.parametrize("tree", [{"T": []}, {"T": {}}, {"N": []}, {"T": "x", "g": []},
                                  {"L": [{"T": ["a"]}]}, {"D": [[{"T": {}}, 1]]}])
def test_tree_references_of_the_wrong_type_raise_checkpoint_error(tree):
    arrays = {"x": np.zeros(1, np.float32)}
    entries = {"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
    with pytest.raises(CheckpointError):
        _load_bytes(_signed(tree, arrays, {"x": "F32"}, entries, bytes(4)))


def test_distinct_tensors_over_one_array_keep_their_own_flags():
    """p and p.data (or w and w.detach()) share memory; each used to load as the first one
    saved, so p.data came back a Parameter requiring grad."""
    p = chainrule.nn.Parameter(chainrule.arange(3.0))
    w = chainrule.ones(2, requires_grad=True)
    back = _rt({"p": p, "data": p.data, "w": w, "d": w.detach(), "p2": p, "d2": w.detach()})
    assert type(back["p"]) is chainrule.nn.Parameter and back["p"].requires_grad
    assert type(back["data"]) is chainrule.Tensor and not back["data"].requires_grad
    assert back["w"].requires_grad and not back["d"].requires_grad
    assert back["p2"] is back["p"] and back["d2"] is not back["d"]
    back["data"].add_(1)                    # still one storage, as in torch
    np.testing.assert_array_equal(back["p"].detach().numpy(), [1.0, 2.0, 3.0])


def test_bytes_round_trip():
    obj = {"b": b"\x00\xff\x80", "ba": bytearray(b"xy"), "e": b"", "k": {b"key": 1}}
    back = _rt(obj)
    assert _same(back, obj) and type(back["ba"]) is bytearray


@pytest.mark.parametrize("value", [10 ** 5000, -(3 ** 4000), 2 ** 63, -2 ** 63, 2 ** 64 + 1,
                                   2 ** 63 - 1], ids=lambda v: f"{v.bit_length()}bits")
def test_huge_ints_round_trip(value):
    """Ints past 4300 decimal digits made save fail with Python's int-to-str limit."""
    back = _rt({"n": value, "l": [value]})
    assert type(back["n"]) is int and back["n"] == value and back["l"] == [value]


@pytest.mark.parametrize("tree", [{"I": "zz"}, {"I": 5}, {"B": "!!"}, {"B": 1}, {"BA": "@"},
                                  {"I": "1" * 20000}],
                         ids=["I-junk", "I-int", "B-junk", "B-int", "BA-junk", "I-long"])
def test_malformed_new_tags_raise_checkpoint_error(tree):
    if tree == {"I": "1" * 20000}:
        assert _load_bytes(_signed(tree)) == int("1" * 20000, 16)
        return
    with pytest.raises(CheckpointError, match="malformed"):
        _load_bytes(_signed(tree))


def _nest(depth, make):
    x = 1
    for _ in range(depth):
        x = make(x)
    return x


@pytest.mark.parametrize("make", [lambda x: [x], lambda x: {"k": x}, lambda x: (x,),
                                  lambda x: {(): x}], ids=["list", "dict", "tuple", "key"])
def test_deep_nesting_works_to_the_limit_then_fails_clearly(tmp_path, make):
    limit = serialization._MAX_DEPTH
    obj = _nest(limit, make)
    path = tmp_path / "deep.safetensors"
    chainrule.save(obj, path)
    assert _same(chainrule.load(path), obj)
    path.unlink()
    for depth in (limit + 1, 5000):
        with pytest.raises(ValueError, match="nests deeper"):
            chainrule.save(_nest(depth, make), path)
    assert os.listdir(tmp_path) == []


def test_reference_cycles_fail_clearly():
    cyc = []
    cyc.append(cyc)
    d = {}
    d["self"] = d
    for obj in (cyc, d):
        with pytest.raises(ValueError, match="reference cycle"):
            _dump(obj)


@pytest.mark.parametrize("text", ['{"L":[' * 800 + "1" + "]}" * 800,
                                  "[" * 50_000 + "]" * 50_000,
                                  '{"D":[["k",' * 400 + "1" + "]]}" * 400],
                         ids=["lists", "raw", "dicts"])
def test_deep_trees_in_a_file_raise_checkpoint_error(text):
    with pytest.raises(CheckpointError):
        _load_bytes(_signed(text))


def test_text_mode_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "c.safetensors"
    chainrule.save({"a": 1}, path)
    with open(path, encoding="latin-1") as fh, pytest.raises(TypeError, match="binary mode"):
        chainrule.load(fh)


def test_non_seekable_streams_load():
    data = _dump(_checkpoint())
    r, w = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(w, data), os.close(w)))
    writer.start()
    with os.fdopen(r, "rb") as fh:
        back = chainrule.load(fh)
    writer.join()
    assert _same(back, _checkpoint())

    class Stream(io.RawIOBase):
        def __init__(self, blob):
            self.inner = io.BytesIO(blob)

        def readable(self):
            return True

        def readinto(self, b):
            return self.inner.readinto(b)
    assert _same(chainrule.load(Stream(data)), _checkpoint())
    with pytest.raises(CheckpointError, match="truncated"):
        chainrule.load(Stream(data[:-1]))


def test_saving_through_a_symlink_replaces_its_target(tmp_path):
    target = tmp_path / "step100.safetensors"
    link = tmp_path / "latest.safetensors"
    chainrule.save({"v": 1}, target)
    link.symlink_to(target)
    chainrule.save({"v": 2}, link)
    assert link.is_symlink() and chainrule.load(target) == {"v": 2}
    assert sorted(os.listdir(tmp_path)) == ["latest.safetensors", "step100.safetensors"]


def test_path_kinds(tmp_path):
    long_name = tmp_path / ("c" * 250)                  # near NAME_MAX: the temp name must fit
    chainrule.save({"v": 1}, long_name)
    assert chainrule.load(long_name) == {"v": 1}
    raw_path = os.fsencode(tmp_path / "b.safetensors")  # bytes paths, as open() takes
    chainrule.save({"v": 2}, raw_path)
    assert chainrule.load(raw_path) == {"v": 2}
    chainrule.save({"v": 3}, str(tmp_path / "s.safetensors"))
    assert chainrule.load(tmp_path / "s.safetensors") == {"v": 3}
    assert sorted(os.listdir(tmp_path)) == sorted(["c" * 250, "b.safetensors", "s.safetensors"])


def test_missing_parent_directory_raises_runtime_error_like_torch(tmp_path):
    with pytest.raises(RuntimeError, match="does not exist"):
        chainrule.save({"v": 1}, tmp_path / "no" / "such" / "c.safetensors")
    assert os.listdir(tmp_path) == []


@needs_torch
def test_torch_also_refuses_a_missing_parent_directory_with_runtime_error(tmp_path):
    import torch
    with pytest.raises(RuntimeError):
        torch.save({"v": 1}, tmp_path / "no" / "c.pt")


# -- files written by other tools --------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy"])
@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_torch_save_files_are_refused_without_unpickling(tmp_path, monkeypatch, zipped,
                                                         suffix):
    import torch
    path = tmp_path / ("model" + suffix)
    torch.save({"w": torch.ones(2)}, path, _use_new_zipfile_serialization=zipped)
    _guard_code(monkeypatch)
    with pytest.raises(CheckpointError) as err:
        chainrule.load(path)
    msg = str(err.value)
    assert str(path) in msg and "never unpickles" in msg
    assert ("zip archive" if zipped else "pickle") in msg


_NP_DTYPES = {"F16": np.float16, "F32": np.float32, "F64": np.float64, "I8": np.int8,
              "I16": np.int16, "I32": np.int32, "I64": np.int64, "U8": np.uint8,
              "BOOL": np.bool_}


@pytest.mark.parametrize("code", sorted(_NP_DTYPES))
def test_safetensors_numpy_files_load_by_name(tmp_path, code):
    from safetensors.numpy import save_file
    rng = np.random.default_rng(1)
    dt = np.dtype(_NP_DTYPES[code])
    if dt.kind == "f":
        a = rng.standard_normal((3, 4)).astype(dt)
        a[0, :3] = [np.nan, np.inf, -0.0]
    elif dt.kind == "b":
        a = rng.random((3, 4)) < 0.5
    else:
        info = np.iinfo(dt)
        a = rng.integers(info.min, info.max, (3, 4), dtype=dt, endpoint=True)
        a[0, :2] = [info.min, info.max]
    path = tmp_path / "np.safetensors"
    save_file({"layer.0.weight": a, "scalar": np.asarray(a.flat[5]), "empty": a[:0]},
              str(path), metadata={"format": "np"})
    back = chainrule.load(path)
    assert list(back) == ["empty", "layer.0.weight", "scalar"]
    for name, ref in [("layer.0.weight", a), ("scalar", np.asarray(a.flat[5])),
                      ("empty", a[:0])]:
        t = back[name]
        assert t.dtype.name == {"F16": "float16", "F32": "float32", "F64": "float64",
                                "I8": "int8", "I16": "int16", "I32": "int32", "I64": "int64",
                                "U8": "uint8", "BOOL": "bool"}[code]
        assert t.shape == ref.shape
        assert np.array_equal(t.numpy(), ref, equal_nan=dt.kind == "f")
        assert np.array_equal(np.signbit(t.numpy()), np.signbit(ref)) if dt.kind == "f" \
            else True


@needs_torch
def test_torch_safetensors_bf16_widens_exactly_and_other_dtypes_match(tmp_path):
    import torch
    from safetensors.torch import save_file
    bf = torch.tensor([0.0, -0.0, 1.0, -2.5, 3.0e38, -3.0e38, float("inf"), float("-inf"),
                       float("nan"), 1e-40, torch.finfo(torch.bfloat16).tiny],
                      dtype=torch.bfloat16)
    tensors = {"bf": bf, "bf0": torch.tensor(1.5, dtype=torch.bfloat16),
               "bf_big": torch.randn(700, 1000).to(torch.bfloat16),
               "f16": torch.tensor([65504.0, -6e-8, float("nan")], dtype=torch.float16),
               "f64": torch.randn(2, 2, dtype=torch.float64),
               "i8": torch.tensor([-128, 127], dtype=torch.int8),
               "i16": torch.tensor([-2 ** 15], dtype=torch.int16),
               "i32": torch.tensor([2 ** 31 - 1]), "i64": torch.tensor([-2 ** 63]),
               "u8": torch.tensor([255], dtype=torch.uint8), "b": torch.tensor([True, False])}
    path = tmp_path / "t.safetensors"
    save_file(tensors, str(path))
    back = chainrule.load(path)
    assert sorted(back) == sorted(tensors)
    for name, ref in tensors.items():
        ours = back[name]
        if ref.dtype == torch.bfloat16:
            ref = ref.float()               # the documented conversion: exact widening
        assert ours.dtype.name == str(ref.dtype).split(".")[1] and ours.shape == ref.shape
        r = ref.numpy()
        assert np.array_equal(ours.numpy(), r, equal_nan=ref.is_floating_point())
        if ref.is_floating_point():
            assert np.array_equal(np.signbit(ours.numpy()), np.signbit(r))


@needs_torch
@pytest.mark.parametrize("dtype", ["uint16", "uint32", "uint64", "float8_e4m3fn",
                                   "float8_e5m2", "complex64"])
def test_dtypes_chainrule_lacks_raise_a_clear_error(tmp_path, dtype):
    import torch
    from safetensors.torch import save_file
    t = torch.zeros(2).to(getattr(torch, dtype))
    path = tmp_path / "t.safetensors"
    save_file({"x": t}, str(path))
    with pytest.raises(CheckpointError, match="'x'.*(dtype|chainrule)"):
        chainrule.load(path)


def test_bf16_load_allocates_about_the_float32_result():
    n = 1 << 20
    bits = (np.arange(n) % 65536).astype("<u2")          # every bf16 bit pattern, 2 chunks
    body = bits.tobytes()
    data = _join({"x": {"dtype": "BF16", "shape": [n], "data_offsets": [0, 2 * n]}}, body)
    tracemalloc.start()
    back = _load_bytes(data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak <= 4 * n + serialization._CHUNK + _SLACK
    got = back["x"].numpy().view(np.uint32)
    np.testing.assert_array_equal(got, bits.astype(np.uint32) << 16)


# -- round trips -------------------------------------------------------------------------------
def _tensors():
    base = chainrule.arange(12.0).view(3, 4)
    return {
        "0d": chainrule.tensor(2.5), "0d_int": chainrule.tensor(-7),
        "empty": chainrule.zeros(0, 3), "empty_i": chainrule.zeros(2, 0, dtype=chainrule.int64),
        "f16": chainrule.tensor([65504.0, -0.0, 6e-8, float("nan"), float("-inf")],
                                dtype=chainrule.float16),
        "i64": chainrule.tensor([2 ** 63 - 1, -2 ** 63, 0]),
        "bool": chainrule.tensor([[True, False]]),
        "specials": chainrule.tensor([float("nan"), float("inf"), -float("inf"), -0.0, 5e-324],
                                     dtype=chainrule.float64),
        "transposed": base.t(), "strided": base[:, ::2], "view_of_view": base[1:].t()[1:],
        "base": base, "row": base[1], "param": chainrule.nn.Parameter(chainrule.ones(2)),
        "frozen": chainrule.nn.Parameter(chainrule.ones(2), requires_grad=False),
        "grad": chainrule.randn(2, requires_grad=True),
        "i8": chainrule.tensor([-1, 2], dtype=chainrule.int8),
    }


def test_tensor_kinds_round_trip_through_paths_and_buffers(tmp_path):
    obj = _tensors()
    path = tmp_path / "t.safetensors"
    chainrule.save(obj, path)                               # a pathlib path
    for back in (chainrule.load(path), chainrule.load(str(path)), _rt(obj)):
        assert _same(back, obj)
        assert type(back["param"]) is chainrule.nn.Parameter
        assert type(back["frozen"]) is chainrule.nn.Parameter
        assert not back["frozen"].requires_grad
        for t in back.values():
            assert t.is_leaf and t.grad_fn is None and t.numpy(force=True).flags.writeable


def test_values_and_containers_round_trip():
    obj = {
        "list": [1, [2, (3, [4])]], "tuple": (1, (2, [3, ()])), "empty": ([], (), {}),
        "scalars": [None, True, False, 0, -1, 2 ** 62, 1.5, -0.0, float("nan"), float("inf"),
                    -float("inf"), 5e-324, 1.7976931348623157e308, "", "é\x00\n\"\\", b"\x00",
                    "\ud800"],
        0: "int key", -3: "neg", 1.5: "float key", None: "none key", True: "bool key",
        (1, "a"): "tuple key", "a.b": 1, "a": {"b": 2}, "": 3, "__metadata__": 4,
        "#1": 5, "日本": 6, "x" * 300: 7,
        "od": collections.OrderedDict([("z", 1), ("a", 2)]),
        "np": np.arange(6, dtype=np.int16).reshape(2, 3)[:, ::2],
    }
    back = _rt(obj)
    assert list(back) == list(obj)
    assert _same({k: v for k, v in back.items() if k != "np"},
                 {k: v for k, v in obj.items() if k != "np"})
    assert type(back["tuple"][1][1]) is list and type(back["list"][1][1]) is tuple
    np.testing.assert_array_equal(back["np"], obj["np"])


def test_state_dict_keys_stay_visible_to_other_readers(tmp_path):
    from safetensors.numpy import load_file
    model = chainrule.nn.Sequential(chainrule.nn.Linear(3, 2), chainrule.nn.ReLU(),
                                    chainrule.nn.Linear(2, 1))
    sd = model.state_dict()
    path = tmp_path / "m.safetensors"
    chainrule.save(sd, path)
    theirs = load_file(str(path))
    assert sorted(theirs) == sorted(sd)
    for k, v in sd.items():
        np.testing.assert_array_equal(theirs[k], v.numpy(force=True))
    fresh = chainrule.nn.Sequential(chainrule.nn.Linear(3, 2), chainrule.nn.ReLU(),
                                    chainrule.nn.Linear(2, 1))
    fresh.load_state_dict(chainrule.load(path))
    for k, v in fresh.state_dict().items():
        assert _same(v, sd[k])


def test_optimizer_state_dict_round_trips(tmp_path):
    w = chainrule.nn.Parameter(chainrule.randn(3))
    opt = chainrule.optim.Adam([w], lr=0.1, amsgrad=True)
    for _ in range(2):
        opt.zero_grad()
        (w ** 2).sum().backward()
        opt.step()
    sd = opt.state_dict()
    back = _rt(sd)
    assert _same(back, sd)


@pytest.mark.parametrize("kwargs", [dict(map_location="cpu"), dict(map_location=None),
                                    dict(map_location={"cuda:0": "cpu"}),
                                    dict(map_location=lambda storage, loc: storage),
                                    dict(weights_only=True), dict(weights_only=False),
                                    dict(mmap=True), dict(pickle_module=pickle),
                                    dict(encoding="latin1")],
                         ids=["cpu", "none", "dict", "callable", "weights_only", "full",
                              "mmap", "pickle_module", "encoding"])
def test_torch_load_arguments_are_accepted(tmp_path, kwargs):
    path = tmp_path / "c.safetensors"
    chainrule.save({"w": chainrule.ones(2)}, path, pickle_protocol=4)
    assert _same(chainrule.load(path, **kwargs), {"w": chainrule.ones(2)})


@needs_torch
def test_signatures_match_torch():
    import inspect
    import torch
    for ours, theirs in [(chainrule.save, torch.save), (chainrule.load, torch.load)]:
        a, b = inspect.signature(ours).parameters, inspect.signature(theirs).parameters
        assert list(a) == list(b)
        assert [p.kind for p in a.values()] == [p.kind for p in b.values()]


# -- hostile metadata ---------------------------------------------------------------------------
_CODE_STRINGS = ["__import__('os').system('touch pwned')", "os.system", "builtins.eval",
                 "subprocess.Popen", "torch._utils._rebuild_tensor_v2", "c__builtin__\neval\n",
                 "!!python/object/apply:os.system ['touch pwned']"]


def test_code_looking_metadata_is_data(tmp_path, no_code):
    """Metadata crafted like Python code or a class path comes back as inert strings (in a
    chainrule tree) or is ignored (a foreign file's metadata); nothing is imported or run."""
    arrays = {"x": np.ones(1, np.float32)}
    entries = {"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
    foreign = dict(entries, __metadata__={s: s for s in _CODE_STRINGS})
    back = _load_bytes(_join(foreign, arrays["x"].tobytes()))
    assert list(back) == ["x"] and back["x"].tolist() == [1.0]
    tree = {"L": _CODE_STRINGS + [{"T": "x"}]}
    back = _load_bytes(_signed(tree, arrays, {"x": "F32"}, entries, arrays["x"].tobytes()))
    assert back[:-1] == _CODE_STRINGS and back[-1].tolist() == [1.0]
    for tag in ("dt", "T", "N", "F", "I", "B", "P"):
        for s in _CODE_STRINGS:
            with pytest.raises(CheckpointError):
                _load_bytes(_signed({tag: s}))
    assert not (tmp_path / "pwned").exists() and not os.path.exists("pwned")


@pytest.mark.parametrize("shape", [[2 ** 40], [2 ** 31, 2 ** 31], [10 ** 30], [0, 2 ** 63]])
def test_gigantic_shapes_allocate_nothing_large(shape, no_code):
    header = {"x": {"dtype": "F64", "shape": shape, "data_offsets": [0, 8]}}
    data = _join(header, bytes(8))
    tracemalloc.start()
    with pytest.raises(CheckpointError):
        _load_bytes(data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak <= len(data) + _SLACK


def test_header_must_start_with_a_brace_and_may_be_space_padded():
    entries = {"x": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}
    blob = json.dumps(entries).encode()
    assert _load_bytes(_join(blob + b"    ", b"\x07"))["x"].tolist() == [7]
    with pytest.raises(CheckpointError, match="not a JSON object"):
        _load_bytes(_join(b"  " + blob, b"\x07"))


def test_parameter_subclasses_load_as_parameters():
    class Scaled(chainrule.nn.Parameter):
        pass
    back = _rt({"p": Scaled(chainrule.ones(2))})
    assert type(back["p"]) is chainrule.nn.Parameter and back["p"].requires_grad


# -- random structures round trip ---------------------------------------------------------------
def _random_value(rng, depth):
    kind = int(rng.integers(12 if depth < 4 else 7))
    if kind == 0:
        return [None, True, False][int(rng.integers(3))]
    if kind == 1:
        return int(rng.integers(-2 ** 63, 2 ** 63)) * [1, 1, 2 ** 70][int(rng.integers(3))]
    if kind == 2:
        return [float(rng.standard_normal()), -0.0, float("nan"), float("inf"), 1e-310,
                -float("inf")][int(rng.integers(6))]
    if kind == 3:
        return "".join(chr(int(c)) for c in rng.integers(1, 0x3000, int(rng.integers(6))))
    if kind == 4:
        return rng.bytes(int(rng.integers(5)))
    if kind in (5, 6):
        dt = [chainrule.float32, chainrule.float64, chainrule.float16, chainrule.int64,
              chainrule.int32, chainrule.uint8, chainrule.bool][int(rng.integers(7))]
        shape = tuple(int(d) for d in rng.integers(0, 4, int(rng.integers(4))))
        t = chainrule.tensor(rng.standard_normal(shape) * 50).to(dt)
        if kind == 6 and t.dim() >= 2:
            t = t.transpose(0, -1)
        return t
    items = [_random_value(rng, depth + 1) for _ in range(int(rng.integers(4)))]
    if kind == 7:
        return items
    if kind == 8:
        return tuple(items)
    keys = [_random_key(rng) for _ in items]
    if kind == 9:
        return dict(zip(keys, items))
    if kind == 10:
        return collections.OrderedDict(zip(keys, items))
    return {f"layer.{i}.weight": v for i, v in enumerate(items)}


def _random_key(rng):
    return [lambda: int(rng.integers(-5, 5)), lambda: "a.b" * int(rng.integers(3)),
            lambda: "k\x00\"\\é", lambda: None, lambda: float(rng.integers(4)) / 2,
            lambda: (1, "x"), lambda: b"\xff", lambda: "__metadata__",
            lambda: str(rng.integers(100))][int(rng.integers(9))]()


def test_random_structures_round_trip(deadline):
    rng = np.random.default_rng(11)
    deadline(60)
    for _ in range(150):
        obj = _random_value(rng, 0)
        if isinstance(obj, chainrule.Tensor) and rng.random() < 0.5:
            obj = [obj, obj]                     # the same tensor twice stays one object
        back = _rt(obj)
        assert _same(back, obj)
        if isinstance(obj, list) and len(obj) == 2 and isinstance(obj[0], chainrule.Tensor):
            assert back[0] is back[1]


def test_fuzz_foreign_files_raise_only_checkpoint_error(deadline, no_code):
    """A flat safetensors file has no checksum, so a flip in its data loads other values;
    anything else must still be CheckpointError, never another exception."""
    from safetensors.numpy import save
    data = save({"a": np.arange(600, dtype=np.float32).reshape(20, 30), "b": np.ones(3, bool),
                 "c": np.arange(4, dtype="<u2"), "e": np.zeros((0, 2), np.int8)},
                metadata={"format": "np"})
    header, body = _split(data)
    header["c"]["dtype"] = "BF16"                      # same width, read as bf16
    data = _join(header, body)
    assert _load_bytes(data)["c"].dtype == chainrule.float32
    rng = np.random.default_rng(3)
    deadline(60)
    kinds = collections.Counter()
    for corrupt in _byte_mutations(data, rng, 300):
        try:
            back = _load_bytes(corrupt)
        except CheckpointError:
            kinds["error"] += 1
            continue
        assert isinstance(back, dict) and all(isinstance(t, chainrule.Tensor)
                                              for t in back.values())
        kinds["loaded"] += 1
    assert kinds["error"] >= 150 and kinds["loaded"] >= 10, kinds


def test_byte_order_and_memory_layout_of_numpy_arrays():
    obj = {"be": np.arange(4, dtype=">f8"), "fortran": np.asfortranarray(np.ones((2, 3))),
           "u64": np.array([2 ** 64 - 1], dtype=np.uint64)}
    back = _rt(obj)
    for k, v in obj.items():
        assert back[k].dtype == v.dtype.newbyteorder("=") and back[k].flags.c_contiguous
        np.testing.assert_array_equal(back[k], v)


def test_entries_listed_out_of_offset_order_are_valid():
    """The JSON order of entries is free; only the byte ranges must tile the data section."""
    a, b = np.arange(3, dtype="<i4"), np.array([1.5], dtype="<f8")
    header = {"b": {"dtype": "F64", "shape": [1], "data_offsets": [12, 20]},
              "a": {"dtype": "I32", "shape": [3], "data_offsets": [0, 12]},
              "z": {"dtype": "U8", "shape": [0], "data_offsets": [20, 20]}}
    back = _load_bytes(_join(header, a.tobytes() + b.tobytes()))
    assert back["a"].tolist() == [0, 1, 2] and back["b"].tolist() == [1.5]
    assert back["z"].shape == (0,)
    header["z"]["data_offsets"] = [4, 4]                # an empty range inside another tensor
    with pytest.raises(CheckpointError, match="overlaps"):
        _load_bytes(_join(header, a.tobytes() + b.tobytes()))


@pytest.mark.parametrize("data", [b"", b"\x80", b"\x80\x02", b"\x80\x05\x95", b"PK", b"PK\x03\x04",
                                  b"\x93NUMPY", b"{}", b"\x01\x00\x00\x00\x00\x00\x00\x00{"],
                         ids=repr)
def test_tiny_files_raise_checkpoint_error(data):
    with pytest.raises(CheckpointError):
        _load_bytes(data)


def test_the_smallest_safetensors_file_is_an_empty_dict():
    assert _load_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}") == {}


def test_deep_objects_from_a_deep_call_stack_fail_clearly():
    obj = _nest(serialization._MAX_DEPTH, lambda x: {"k": x})
    data = _dump(obj)

    def at_depth(n, fn):
        return fn() if n == 0 else at_depth(n - 1, fn)
    depth = sys.getrecursionlimit() - 150
    with pytest.raises(ValueError, match="nests too deeply"):
        at_depth(depth, lambda: _dump(obj))
    with pytest.raises(CheckpointError):
        at_depth(depth, lambda: _load_bytes(data))
    assert _same(_load_bytes(data), obj)


def test_keys_with_lone_surrogates_name_tensors():
    """Tensor names are UTF-8 in the file; such a key used to fail with UnicodeEncodeError."""
    obj = {"\ud800": chainrule.ones(1), "a\udcff": {"b": chainrule.zeros(1)}, "\ud800x": 1}
    assert _same(_rt(obj), obj)


def test_headers_past_the_format_limit_are_refused_at_save(tmp_path, monkeypatch):
    """Such a file would be one chainrule.load (and every safetensors reader) refuses."""
    path = tmp_path / "c.safetensors"
    chainrule.save({"v": 1}, path)
    monkeypatch.setattr(serialization, "_MAX_HEADER", 1000)
    chainrule.save(list(range(50)), tmp_path / "small.safetensors")
    with pytest.raises(ValueError, match="1000-byte limit"):
        chainrule.save(list(range(1000)), path)
    monkeypatch.undo()
    assert chainrule.load(path) == {"v": 1}
    assert sorted(os.listdir(tmp_path)) == ["c.safetensors", "small.safetensors"]


def test_saving_onto_a_directory_fails_and_leaves_no_temp_file(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(OSError):
        chainrule.save({"v": 1}, tmp_path / "d")
    assert os.listdir(tmp_path) == ["d"] and os.listdir(tmp_path / "d") == []


def test_a_header_that_would_parse_into_gigabytes_is_refused_unparsed(tmp_path):
    """Python objects are tens of times the JSON text that makes them: a header of 7 million
    empty lists (21 MB) would take about 450 MB to parse. It is refused by counting its tokens,
    and loading allocates no more than the file's size plus the fixed parsing allowance."""
    import tracemalloc
    from chainrule.serialization import _PARSE_FLOOR, CheckpointError
    n = 7_000_000
    header = b'{"__metadata__":{},"x":[' + b"[]," * n + b"[]]}"
    path = tmp_path / "lists.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header)
    size = path.stat().st_size
    del header
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match="would take about"):
            chainrule.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < size + _PARSE_FLOOR, peak


def test_many_small_tensors_still_load(tmp_path):
    """The parsing allowance leaves room for ordinary headers: 3,000 scalars, whose header is
    larger than their data, round-trip."""
    sd = {f"layer{i}.scale": chainrule.tensor(float(i)) for i in range(3000)}
    chainrule.save(sd, tmp_path / "many.safetensors")
    back = chainrule.load(tmp_path / "many.safetensors")
    assert len(back) == 3000 and float(back["layer2999.scale"]) == 2999.0
