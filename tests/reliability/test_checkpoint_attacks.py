"""Checkpoints under attack (issue 7): hostile, truncated and corrupted files must raise a clear
chainrule error, execute nothing, create no file, not crash or hang, and allocate no more than
the file's size; a save that fails midway must leave the previous checkpoint intact."""
import io
import json
import math
import os
import pickle
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

import chainrule
from chainrule import serialization
from chainrule.serialization import CheckpointError

# Python-object overhead allowed on top of the file size (the parsed JSON header, small objects)
_SLACK = 256 * 1024


class _Payload:
    """Unpickling this object creates the marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _checkpoint():
    g = chainrule.Generator().manual_seed(0)
    return {"model": {"w": chainrule.randn(4, 3, generator=g), "b": chainrule.zeros(3),
                      "steps": chainrule.tensor([1, 2, 3])},
            "meta": [1, 2.5, "name", None, True, (0.9, 0.999)],
            "mask": chainrule.tensor([True, False]), "half": chainrule.ones(2).half()}


def _same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, chainrule.Tensor):
        return a.dtype == b.dtype and a.shape == b.shape and \
            np.array_equal(a.numpy(), b.numpy(), equal_nan=a.is_floating_point())
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


@pytest.fixture
def no_unpickling(monkeypatch):
    """Any use of pickle during the test fails it."""
    def boom(*args, **kwargs):
        raise AssertionError("pickle was used")
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, boom)


def _load_guarded(path, expect_error=True):
    """Load under tracemalloc; check the outcome, the peak allocation and that no file
    appeared. Returns the loaded object (when no error is expected) or the error."""
    directory = os.path.dirname(path)
    before = sorted(os.listdir(directory))
    size = os.path.getsize(path)
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        result = chainrule.load(path)
        error = None
    except CheckpointError as e:
        result, error = None, e
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak <= size + _SLACK, f"load allocated {peak} bytes for a {size}-byte file"
    assert sorted(os.listdir(directory)) == before, "loading created a file"
    if expect_error:
        assert error is not None, "a hostile file loaded without error"
        assert str(error).startswith("chainrule.load: ")
        return error
    return result


def _raw(header, data=b"", length=None):
    blob = json.dumps(header).encode() if not isinstance(header, bytes) else header
    n = len(blob) if length is None else length
    return struct.pack("<Q", n) + blob + data


# -- pickles and archives ---------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".pt", ".safetensors", ".npz"])
def test_pickle_payload_is_never_executed(tmp_path, suffix, no_unpickling):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Payload(str(marker)), protocol=2)
    for proto_payload in (payload, pickle.dumps(_Payload(str(marker)), protocol=0)):
        path = tmp_path / ("evil" + suffix)
        path.write_bytes(proto_payload)
        _load_guarded(str(path))
        assert not marker.exists()


def test_the_payload_is_live(tmp_path):
    """The payload used above really runs code when unpickled (so the test above can fail)."""
    marker = tmp_path / "proof"
    pickle.loads(pickle.dumps(_Payload(str(marker))))
    assert marker.exists()


@pytest.mark.parametrize("suffix", [".pt", ".npz", ".safetensors"])
def test_zipped_pickles_are_refused(tmp_path, suffix, no_unpickling):
    marker = tmp_path / "pwned"
    path = tmp_path / ("evil" + suffix)
    with zipfile.ZipFile(path, "w") as z:      # torch.save's layout: archive/data.pkl
        z.writestr("archive/data.pkl", pickle.dumps(_Payload(str(marker))))
        z.writestr("archive/version", "3\n")
    err = _load_guarded(str(path))
    assert "zip archive" in str(err) and "never unpickles" in str(err)
    assert not marker.exists()


def test_npz_zip_bomb(tmp_path, no_unpickling):
    path = tmp_path / "bomb.npz"
    zeros = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("x.npy", "w", force_zip64=True) as member:
            member.write(b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, "
                         b"'shape': (8388608,), }" + b" " * 50 + b"\n")
            for _ in range(64):
                member.write(zeros)
    size = os.path.getsize(path)
    assert size < 1 << 20            # a 64 MiB payload compressed to well under 1 MiB
    _load_guarded(str(path))


def test_npy_file_is_refused(tmp_path):
    path = tmp_path / "a.npy"
    np.save(path, np.arange(3))
    _load_guarded(str(path))


# -- truncation -------------------------------------------------------------------------------
def test_truncation_at_ten_points(tmp_path, no_unpickling):
    buf = io.BytesIO()
    chainrule.save(_checkpoint(), buf)
    data = buf.getvalue()
    n = struct.unpack("<Q", data[:8])[0]
    cuts = [0, 4, 7, 8, 9, 8 + n // 2, 8 + n - 1, 8 + n, 8 + n + (len(data) - 8 - n) // 2,
            len(data) - 1]
    assert len(set(cuts)) == 10
    for cut in cuts:
        path = tmp_path / f"cut{cut}.safetensors"
        path.write_bytes(data[:cut])
        _load_guarded(str(path))
        path.unlink()


# -- hostile headers --------------------------------------------------------------------------
def _entry(dtype="F32", shape=(2,), offsets=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


HOSTILE = {
    "header-length-2**60": _raw({"a": _entry()}, bytes(8), length=2 ** 60),
    "header-length-u64-max": _raw({"a": _entry()}, bytes(8), length=2 ** 64 - 1),
    "header-length-past-end": _raw({"a": _entry()}, bytes(8), length=40_000),
    "overlapping-offsets": _raw({"a": _entry(offsets=(0, 8)), "b": _entry(offsets=(4, 12))},
                                bytes(12)),
    "offsets-out-of-range": _raw({"a": _entry(offsets=(8, 16))}, bytes(8)),
    "offsets-huge": _raw({"a": _entry(shape=(2 ** 61,), offsets=(0, 2 ** 63))}, bytes(8)),
    "offsets-reversed": _raw({"a": _entry(shape=(0,), offsets=(8, 0))}, bytes(8)),
    "offsets-gap": _raw({"a": _entry(offsets=(0, 8)), "b": _entry(offsets=(12, 20))},
                        bytes(20)),
    "offsets-negative": _raw({"a": _entry(offsets=(-8, 0))}, bytes(8)),
    "trailing-bytes": _raw({"a": _entry()}, bytes(16)),
    "shape-overflows-int64": _raw({"a": _entry(shape=(2 ** 62, 2 ** 62, 16), offsets=(0, 8))},
                                  bytes(8)),
    "shape-wraps-to-size": _raw({"a": _entry("U8", shape=(2 ** 32, 2 ** 32, 8),
                                             offsets=(0, 8))}, bytes(8)),
    "shape-negative": _raw({"a": _entry(shape=(-2,), offsets=(0, 8))}, bytes(8)),
    "shape-float": _raw({"a": _entry(shape=(2.0,))}, bytes(8)),
    "shape-bool": _raw({"a": _entry("U8", shape=(True,), offsets=(0, 1))}, bytes(1)),
    "shape-too-many-dims": _raw({"a": _entry("U8", shape=(1,) * 65, offsets=(0, 1))}, bytes(1)),
    "size-mismatch": _raw({"a": _entry(shape=(3,))}, bytes(8)),
    "duplicate-keys": _raw(b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                           b'"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', bytes(8)),
    "duplicate-inner-keys": _raw(b'{"a":{"dtype":"F32","dtype":"I32","shape":[2],'
                                 b'"data_offsets":[0,8]}}', bytes(8)),
    "unknown-dtype": _raw({"a": _entry("F128")}, bytes(8)),
    "object-dtype": _raw({"a": _entry("O")}, bytes(8)),
    "extra-entry-key": _raw({"a": dict(_entry(), extra=1)}, bytes(8)),
    "header-not-object": _raw([1, 2, 3], bytes(8)),
    "header-not-json": _raw(b"{'a': 1}", bytes(8)),
    "header-not-utf8": _raw(b'{"\xff":1}'),
    "header-nan": _raw(b'{"a":NaN}'),
    "header-deep-nesting": _raw(b"[" * 100_000 + b"]" * 100_000),
    "metadata-not-strings": _raw({"__metadata__": {"k": 1}}),
    "tree-bad": _raw({"__metadata__": {"chainrule.tree": "{\"X\":1}",
                                       "chainrule.sha256": "0" * 64}}),
    "tree-without-checksum": _raw({"__metadata__": {"chainrule.tree": "null"}}),
    "tiny-file": b"\x01\x00",
    "empty-file": b"",
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_headers(tmp_path, case, no_unpickling):
    path = tmp_path / f"{case}.safetensors"
    path.write_bytes(HOSTILE[case])
    _load_guarded(str(path))


def test_tree_referring_to_a_missing_tensor(tmp_path):
    """A tree consistent with its own checksum still may not invent tensors."""
    tree = json.dumps({"T": "ghost"})
    digest = serialization._digest({}, {}, tree)
    path = tmp_path / "ghost.safetensors"
    path.write_bytes(_raw({"__metadata__": {"chainrule.tree": tree,
                                            "chainrule.sha256": digest}}))
    err = _load_guarded(str(path))
    assert "missing tensor" in str(err)


def test_random_byte_flips(tmp_path, no_unpickling):
    """1,000 single-byte corruptions (fixed seed): each load raises CheckpointError or returns
    exactly the original content (a flip that only changes JSON whitespace)."""
    original = _checkpoint()
    buf = io.BytesIO()
    chainrule.save(original, buf)
    data = buf.getvalue()
    rng = np.random.default_rng(2024)
    path = tmp_path / "flip.safetensors"
    errors = identical = 0
    for _ in range(1000):
        corrupt = bytearray(data)
        pos = int(rng.integers(len(data)))
        corrupt[pos] ^= int(rng.integers(1, 256))
        path.write_bytes(bytes(corrupt))
        result = _load_guarded(str(path), expect_error=False)
        if result is None:
            errors += 1
        else:
            assert _same(result, original), f"flip at byte {pos} changed the content silently"
            identical += 1
    assert errors + identical == 1000 and errors >= 950


# -- interrupted saves ------------------------------------------------------------------------
def _interrupt_after(monkeypatch, limit, exc):
    written = [0]
    real = serialization._write_chunk

    def partial(fh, chunk):
        room = limit - written[0]
        if room < len(chunk):
            real(fh, chunk[:max(room, 0)])
            raise exc
        written[0] += len(chunk)
        real(fh, chunk)
    monkeypatch.setattr(serialization, "_write_chunk", partial)


@pytest.mark.parametrize("failure", ["disk-full", "interrupt", "fsync", "rename"])
def test_failed_save_leaves_previous_checkpoint_intact(tmp_path, monkeypatch, failure):
    path = tmp_path / "model.safetensors"
    chainrule.save(_checkpoint(), path)
    good = path.read_bytes()
    bigger = {"w": chainrule.randn(800, 800)}       # > 1 chunk, so the write is cut midway
    if failure == "disk-full":
        _interrupt_after(monkeypatch, 1_500_000, OSError(28, "No space left on device"))
        expected = OSError
    elif failure == "interrupt":
        _interrupt_after(monkeypatch, 100, KeyboardInterrupt())
        expected = KeyboardInterrupt
    elif failure == "fsync":
        def bad_fsync(fd):
            raise OSError(5, "Input/output error")
        monkeypatch.setattr(os, "fsync", bad_fsync)
        expected = OSError
    else:
        def bad_replace(src, dst):
            raise PermissionError(13, "Permission denied")
        monkeypatch.setattr(os, "replace", bad_replace)
        expected = PermissionError
    with pytest.raises(expected):
        chainrule.save(bigger, path)
    monkeypatch.undo()
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["model.safetensors"]
    assert _same(chainrule.load(path), _checkpoint())


def test_failed_first_save_leaves_no_file(tmp_path, monkeypatch):
    _interrupt_after(monkeypatch, 10, OSError(28, "No space left on device"))
    with pytest.raises(OSError):
        chainrule.save({"w": chainrule.ones(3)}, tmp_path / "new.safetensors")
    assert os.listdir(tmp_path) == []


# -- round trips of edge values ----------------------------------------------------------------
@pytest.mark.parametrize("value", [
    chainrule.tensor(2.5), chainrule.tensor(7), chainrule.tensor(True),
    chainrule.zeros(0), chainrule.zeros(3, 0, dtype=chainrule.int64),
    chainrule.tensor([0.5, -0.0, 65504.0, 6e-8], dtype=chainrule.float16),
    chainrule.tensor([2 ** 63 - 1, -2 ** 63, 0], dtype=chainrule.int64),
    chainrule.tensor([float("nan"), float("inf"), -float("inf"), 1.0], dtype=chainrule.float64),
    chainrule.tensor([float("nan"), -float("inf")], dtype=chainrule.float32),
    chainrule.tensor([[True, False], [False, True]]),
])
def test_edge_value_round_trips(tmp_path, value):
    path = tmp_path / "edge.safetensors"
    chainrule.save({"v": value, "nested": [value]}, path)
    back = _load_guarded(str(path), expect_error=False)
    assert _same(back["v"], value) and back["v"] is back["nested"][0]
    assert np.signbit(back["v"].numpy()).tolist() == np.signbit(value.numpy()).tolist()
