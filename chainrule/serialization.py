"""Checkpoints: ``chainrule.save`` and ``chainrule.load`` in the safetensors format, never pickle.

A file is a little-endian u64 header length N, N bytes of JSON header (each tensor's dtype,
shape and byte range; ``__metadata__`` of strings) and the raw tensor bytes. Objects other than
a flat set of tensors (nested dicts, lists, tuples, numbers, strings, None) are described by a
JSON tree in the metadata that refers to tensors by name, with a SHA-256 over names, dtypes,
shapes, data and tree, so corruption is detected. Loading validates the header length against
the file size before reading it, then every dtype, shape and byte range, before any data is
read; it allocates at most the file's size for tensor data and executes nothing from the file.
"""
import base64
import hashlib
import io
import json
import os
import tempfile
from collections import Counter, OrderedDict

import numpy as np

from . import dtypes as _dt
from ._tensor import Tensor

__all__ = ["save", "load", "CheckpointError"]


class CheckpointError(RuntimeError):
    """A checkpoint file is not a valid safetensors file (truncated, corrupted, hostile, or in
    another format such as a pickle or zip archive)."""


_TREE = "chainrule.tree"
_SUM = "chainrule.sha256"
_MAX_HEADER = 100_000_000      # the safetensors reference limit
_MAX_DIMS = 64
_CHUNK = 1 << 20
_MAX_DEPTH = 100              # container nesting a checkpoint may hold
_PARSE_FLOOR = 64 << 20       # JSON parsing may take this much beyond the file's size

# safetensors dtype codes <-> NumPy dtypes (little-endian); BF16 is widened to float32
_CODES = {"BOOL": np.dtype(np.bool_), "U8": np.dtype("<u1"), "I8": np.dtype("<i1"),
          "I16": np.dtype("<i2"), "U16": np.dtype("<u2"), "I32": np.dtype("<i4"),
          "U32": np.dtype("<u4"), "I64": np.dtype("<i8"), "U64": np.dtype("<u8"),
          "F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8"),
          "BF16": np.dtype("<u2")}
_CODE_OF = {v: k for k, v in _CODES.items() if k != "BF16"}


def _safetensors_numpy():
    try:
        import safetensors.numpy as st
    except ImportError:
        raise ImportError("chainrule.save needs the `safetensors` package: "
                          "pip install safetensors") from None
    return st


# -- encoding a Python object as tensors + a JSON tree ------------------------------------------
class _Encoder:
    def __init__(self):
        self.arrays = {}
        self.by_id = {}
        self.aliases = {}           # stored name -> number of distinct tensor objects using it

    def _name(self, path):
        # names are UTF-8 in the file: a key holding a lone surrogate is escaped
        base = (".".join(path) or "tensor").encode("utf-8", "backslashreplace").decode()
        name, k = base, 1
        while name in self.arrays or name == "__metadata__":
            name = f"{base}#{k}"
            k += 1
        return name

    def _array(self, arr, path, kind):
        key = (kind, id(arr))
        if key in self.by_id:
            return self.by_id[key][0]
        arr = np.asarray(arr)
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        code = _CODE_OF.get(arr.dtype)
        if code is None:
            raise TypeError(f"chainrule.save: cannot store an array of dtype {arr.dtype} at "
                            f"{'.'.join(path) or 'the top level'}")
        name = self._name(path)
        self.arrays[name] = arr if arr.flags.c_contiguous else arr.copy(order="C")
        self.by_id[key] = (name, arr)       # keep arr alive so its id stays unique
        return name

    def encode(self, obj, path=()):
        if len(path) > _MAX_DEPTH:
            raise ValueError(f"chainrule.save: the object nests deeper than {_MAX_DEPTH} "
                             "levels (or contains a reference cycle) at "
                             f"{'.'.join(path[:8])}...")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            obj = int(obj)
            # NOTE: JSON ints beyond 64 bits go as hex, which has no digit-count limit
            return obj if obj.bit_length() < 64 else {"I": hex(obj)}
        if isinstance(obj, (bytes, bytearray)):
            return {"B" if isinstance(obj, bytes) else "BA": base64.b64encode(obj).decode()}
        if isinstance(obj, float):
            if obj != obj:
                return {"F": "nan"}
            if obj in (float("inf"), float("-inf")):
                return {"F": "inf" if obj > 0 else "-inf"}
            return float(obj)
        if isinstance(obj, Tensor):
            name, alias = self._tensor(obj, path)
            node = {"T": name}
            if alias:
                node["a"] = alias
            if obj.requires_grad:
                node["g"] = 1
            from .nn.parameter import Parameter
            if isinstance(obj, Parameter):
                node["P"] = 1
            return node
        if isinstance(obj, np.ndarray):
            return {"N": self._array(obj, path, "N")}
        if isinstance(obj, np.generic):
            return self.encode(obj.item(), path)
        if isinstance(obj, _dt.dtype):
            return {"dt": obj.name}
        if isinstance(obj, (dict, OrderedDict, Counter)):
            tag = "C" if isinstance(obj, Counter) else "O" if isinstance(obj, OrderedDict) \
                else "D"
            return {tag: [[self.encode(k, path + ("key",)), self.encode(v, path + (str(k),))]
                          for k, v in obj.items()]}
        if isinstance(obj, list):
            return {"L": [self.encode(v, path + (str(i),)) for i, v in enumerate(obj)]}
        if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
            return {"U": [self.encode(v, path + (str(i),)) for i, v in enumerate(obj)]}
        raise TypeError(f"chainrule.save: cannot save an object of type {type(obj).__name__} "
                        f"at {'.'.join(path) or 'the top level'} (supported: tensors, NumPy "
                        "arrays, dict, list, tuple, int, float, bool, str, bytes, None)")

    def _tensor(self, t, path):
        """(name, alias): distinct tensor objects over one array (``p`` and ``p.data``) share
        the stored bytes but load as distinct tensors, each with its own flags."""
        key = ("T", id(t))
        if key in self.by_id:
            return self.by_id[key][0]
        name = self._array(t.detach().numpy(), path, "T")
        alias = self.aliases.get(name, 0)
        self.aliases[name] = alias + 1
        self.by_id[key] = ((name, alias), t)
        return name, alias


def _digest(arrays, codes, tree):
    """SHA-256 over (name, dtype code, shape, bytes) of each tensor in name order, then the
    tree; dtype flips that keep the byte size, and data corruption, change it."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        arr = arrays[name]
        h.update(json.dumps([name, codes[name], list(arr.shape)]).encode())
        h.update(np.ascontiguousarray(arr).reshape(-1).view(np.uint8).data)
    h.update(tree.encode())
    return h.hexdigest()


def _write_chunk(fh, chunk):
    fh.write(chunk)


def _umask():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def _write_atomic(path, data):
    """Write to a temporary file in the same directory, fsync, then rename over path: a crash
    or error leaves the previous file intact and no partial file. A symlink is written
    through (its target is replaced), as a plain open-and-write would."""
    path = os.path.realpath(os.fsdecode(path))
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise RuntimeError(f"chainrule.save: parent directory {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path)[:200] + ".", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            view = memoryview(data)
            for start in range(0, len(view), _CHUNK):
                _write_chunk(fh, view[start:start + _CHUNK])
            fh.flush()
            os.fsync(fh.fileno())
        try:
            mode = os.stat(path).st_mode & 0o777
        except OSError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if hasattr(os, "O_DIRECTORY"):
        try:
            dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save tensors, state dicts, optimizer state dicts, and nested dicts/lists/tuples of
    tensors, NumPy arrays and plain values (int, float, bool, str, bytes, None) to ``f`` (a path
    or a writable binary file) in the safetensors format. Never pickles; the pickle arguments
    are accepted for compatibility and ignored. Writing to a path is atomic (a symlink is
    written through). Nesting deeper than 100 levels, or a reference cycle, raises ValueError.
    The same tensor object saved twice loads as one object; distinct views of one storage
    load as separate tensors.

    A flat dict of tensors is stored under its own keys, so other safetensors readers see
    those names; nested entries are named by their path (``state.0.exp_avg``).

    >>> import chainrule, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
    >>> chainrule.save({"w": chainrule.ones(2), "step": 3, "betas": (0.9, 0.99)}, path)
    >>> chainrule.load(path)
    {'w': tensor([1., 1.]), 'step': 3, 'betas': (0.9, 0.99)}
    """
    st = _safetensors_numpy()
    enc = _Encoder()
    try:
        tree = json.dumps(enc.encode(obj), separators=(",", ":"), allow_nan=False)
    except RecursionError:      # within _MAX_DEPTH, but called from an already deep stack
        raise ValueError("chainrule.save: the object nests too deeply to encode from this "
                         "call depth") from None
    codes = {name: _CODE_OF[a.dtype] for name, a in enc.arrays.items()}
    meta = {_TREE: tree, _SUM: _digest(enc.arrays, codes, tree)}
    data = st.save(enc.arrays, metadata=meta)
    if int.from_bytes(data[:8], "little") > _MAX_HEADER:
        raise ValueError(f"chainrule.save: the header (names, shapes and the non-tensor values) "
                         f"exceeds the {_MAX_HEADER}-byte limit of the safetensors format; "
                         "store long lists of numbers as tensors")
    if hasattr(f, "write"):
        f.write(data)
        return
    _write_atomic(f, data)


# -- loading ----------------------------------------------------------------------------------
def _fail(where, msg):
    raise CheckpointError(f"chainrule.load: {where}: {msg}")


def _no_duplicates(pairs, where):
    out = {}
    for k, v in pairs:
        if k in out:
            _fail(where, f"the header repeats the key {k!r}")
        out[k] = v
    return out


def _reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def _parse_cost(raw):
    """An upper estimate of the bytes json.loads allocates for ``raw`` (bytes or str): Python
    objects are 10-60x the JSON text that makes them (``[],`` is a 56-byte list), so a hostile
    header is refused by counting its tokens before anything is built."""
    c = raw.count
    q = '"' if isinstance(raw, str) else b'"'
    if isinstance(raw, str):
        opens_d, opens_l, seps = c("{"), c("["), c(",") + c(":")
    else:
        opens_d, opens_l, seps = c(b"{"), c(b"["), c(b",") + c(b":")
    return 64 * opens_d + 56 * opens_l + 50 * (c(q) // 2) + 40 * seps + 4 * len(raw)


def _parse_json(raw, where, what, budget=None):
    if budget is not None:
        cost = _parse_cost(raw)
        if cost > budget:
            _fail(where, f"parsing the {what} would take about {cost >> 20} MiB, more than the "
                         f"file's size plus {_PARSE_FLOOR >> 20} MiB (a hostile or corrupted "
                         "file)")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text, object_pairs_hook=lambda p: _no_duplicates(p, where),
                          parse_constant=_reject_constant)
    except CheckpointError:
        raise
    except (ValueError, RecursionError) as e:
        _fail(where, f"the {what} is not valid JSON ({e})")


def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _validate(header, data_len, where):
    """Check every entry against the data section; returns [(name, code, shape, begin, end)]
    sorted by begin."""
    if not isinstance(header, dict):
        _fail(where, "the header is not a JSON object")
    meta = header.get("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                             for k, v in meta.items()):
        _fail(where, "__metadata__ must map strings to strings")
    entries = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            _fail(where, f"tensor {name!r}: an entry needs exactly dtype, shape and "
                  "data_offsets")
        code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not isinstance(code, str) or code not in _CODES:
            _fail(where, f"tensor {name!r}: unsupported dtype {code!r} (chainrule reads "
                  f"{', '.join(_CODES)})")
        if not isinstance(shape, list) or len(shape) > _MAX_DIMS or \
                not all(_is_int(d) and d >= 0 for d in shape):
            _fail(where, f"tensor {name!r}: invalid shape {shape!r}")
        if not isinstance(offsets, list) or len(offsets) != 2 or \
                not all(_is_int(o) for o in offsets):
            _fail(where, f"tensor {name!r}: invalid data_offsets {offsets!r}")
        begin, end = offsets
        if not 0 <= begin <= end <= data_len:
            _fail(where, f"tensor {name!r}: data_offsets [{begin}, {end}] lie outside the "
                  f"{data_len}-byte data section (truncated or corrupted file)")
        count = 1
        for d in shape:
            count *= d          # Python ints: no overflow
        if count * _CODES[code].itemsize != end - begin:
            _fail(where, f"tensor {name!r}: shape {shape} of {code} needs "
                  f"{count * _CODES[code].itemsize} bytes but data_offsets span {end - begin}")
        entries.append((name, code, tuple(shape), begin, end))
    entries.sort(key=lambda e: (e[3], e[4]))
    pos = 0
    for name, _, _, begin, end in entries:
        if begin != pos:
            what = "overlaps the previous tensor" if begin < pos else "leaves a gap before it"
            _fail(where, f"tensor {name!r}: data_offsets [{begin}, {end}] {what}")
        pos = end
    if pos != data_len:
        _fail(where, f"the tensors cover {pos} bytes of a {data_len}-byte data section")
    return entries, meta


def _read_exact(fh, buf, where, name):
    view = memoryview(buf).cast("B")
    got = 0
    while got < len(view):
        n = fh.readinto(view[got:]) if hasattr(fh, "readinto") else None
        if n is None:
            chunk = fh.read(len(view) - got)
            n = len(chunk)
            view[got:got + n] = chunk
        if not n:
            _fail(where, f"tensor {name!r}: file ends early (truncated)")
        got += n


class _Decoder:
    def __init__(self, arrays, where):
        self.arrays = arrays
        self.where = where
        self.tensors = {}

    def _array(self, name):
        if not isinstance(name, str) or name not in self.arrays:
            _fail(self.where, f"the object tree refers to a missing tensor {name!r}")
        return self.arrays[name]

    def decode(self, node):
        try:
            return self._decode(node)
        except RecursionError:
            _fail(self.where, "the object tree in the metadata nests too deeply")

    def _decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, dict) and len(node) >= 1:
            keys = set(node)
            if "T" in node and keys <= {"T", "a", "g", "P"}:
                return self._tensor(node)
            if len(node) == 1:
                (tag, val), = node.items()
                if tag == "N":
                    return self._array(val)
                if tag == "F" and val in ("nan", "inf", "-inf"):
                    return float(val)
                if tag == "I" and isinstance(val, str):
                    try:
                        return int(val, 16)
                    except ValueError:
                        pass
                if tag in ("B", "BA") and isinstance(val, str):
                    try:
                        raw = base64.b64decode(val, validate=True)
                    except ValueError:
                        raw = None
                    if raw is not None:
                        return raw if tag == "B" else bytearray(raw)
                if tag == "dt" and isinstance(val, str) and val in _dt._NAMES:
                    return _dt._NAMES[val]
                if tag in ("L", "U") and isinstance(val, list):
                    items = [self._decode(v) for v in val]
                    return items if tag == "L" else tuple(items)
                if tag in ("D", "O", "C") and isinstance(val, list):
                    out = {"D": dict, "O": OrderedDict, "C": Counter}[tag]()
                    for pair in val:
                        if not (isinstance(pair, list) and len(pair) == 2):
                            break
                        key = self._decode(pair[0])
                        value = self._decode(pair[1])
                        try:
                            out[key] = value
                        except TypeError:       # an unhashable key
                            break
                    else:
                        return out
        _fail(self.where, "the object tree in the metadata is malformed")

    def _tensor(self, node):
        name, alias = node["T"], node.get("a", 0)
        grad, param = node.get("g", 0), node.get("P", 0)
        if not all(_is_int(v) for v in (alias, grad, param)) or alias < 0 or \
                grad not in (0, 1) or param not in (0, 1):
            _fail(self.where, "the object tree in the metadata is malformed")
        arr = self._array(name)
        key = (name, alias)
        if key in self.tensors:
            t, flags = self.tensors[key]
            if flags != (grad, param):
                _fail(self.where, f"tensor {name!r} is stored with conflicting flags")
            return t
        if arr.dtype not in _dt._FROM_NP:
            _fail(self.where, f"tensor {name!r}: dtype {arr.dtype} has no chainrule dtype")
        t = Tensor._make(arr)
        if grad:
            if not t.is_floating_point():
                _fail(self.where, f"tensor {name!r}: only floating tensors can require grad")
            t.requires_grad_(True)
        if param:
            from .nn import Parameter
            t = Parameter(t, requires_grad=bool(grad))
        self.tensors[key] = (t, (grad, param))
        return t


def _open(f):
    if hasattr(f, "read"):
        where = getattr(f, "name", "<file object>")
        seekable = getattr(f, "seekable", None)
        try:
            ok = seekable() if seekable is not None else (f.seek(f.tell()) is not None)
        except (AttributeError, OSError, ValueError):
            ok = False
        if not ok:      # a pipe or socket: buffer it (its size is what it holds)
            return _buffer(f, where), False, where
        return f, False, where
    return open(os.fsdecode(f), "rb"), True, os.fsdecode(f)


def _buffer(f, where):
    out = io.BytesIO()
    while True:
        chunk = f.read(_CHUNK)
        if not chunk:
            break
        if not isinstance(chunk, bytes):
            _binary_only(where)
        out.write(chunk)
    out.seek(0)
    return out


def _size(fh):
    try:
        return os.fstat(fh.fileno()).st_size
    except (AttributeError, OSError, ValueError):
        pos = fh.tell()
        end = fh.seek(0, 2)
        fh.seek(pos)
        return end


def _binary_only(where):
    raise TypeError(f"chainrule.load: {where}: the file object is in text mode; open it in "
                    "binary mode ('rb')")


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load what ``chainrule.save`` stored (or any safetensors file: its tensors come back
    as a dict by name, bf16 widened exactly to float32) from a path or a readable binary file
    (a non-seekable stream is read into memory first).

    Never unpickles and executes nothing from the file. A truncated, corrupted, hostile or
    non-safetensors file (a pickle, a zip archive such as torch's ``.pt`` or NumPy's ``.npz``)
    raises :class:`CheckpointError`; the header is validated against the file size before it
    is read, and at most the file's size is allocated for tensor data (bf16: the float32
    result). ``map_location``, ``weights_only``, ``mmap`` and the pickle arguments are accepted
    for compatibility (everything loads to the CPU).

    >>> import chainrule, io
    >>> buf = io.BytesIO(); chainrule.save([chainrule.tensor([1, 2]), None], buf)
    >>> _ = buf.seek(0); chainrule.load(buf)
    [tensor([1, 2]), None]
    """
    fh, owned, where = _open(f)
    try:
        return _load(fh, where)
    finally:
        if owned:
            fh.close()


def _read_bf16(fh, shape, where, name):
    """bfloat16 is the top half of a float32: widen exactly, reading in chunks so the peak
    is the float32 result (twice the stored bytes) plus one chunk."""
    out = np.empty(shape, dtype=np.uint32)
    flat = out.reshape(-1)
    step = _CHUNK // 2
    chunk = np.empty(min(step, flat.size), dtype="<u2")
    for start in range(0, flat.size, step):
        part = chunk[:min(step, flat.size - start)]
        _read_exact(fh, part, where, name)
        flat[start:start + part.size] = part
    flat <<= 16
    return out.view(np.float32)


def _format_of(first):
    """What the first 8 bytes say the file is, when it is a format chainrule refuses."""
    if first.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ("a zip archive (a torch.save .pt file or a NumPy .npz?), not a safetensors "
                "file; chainrule.load reads only safetensors and never unpickles")
    if first.startswith(b"\x93NUMPY"):
        return "a NumPy .npy file, not a safetensors file"
    if first[:1] == b"\x80" and first[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return ("a pickle (a legacy torch.save file?), not a safetensors file; chainrule.load "
                "never unpickles")
    return None


def _load(fh, where):
    base = fh.tell() if hasattr(fh, "tell") else 0
    size = _size(fh) - base
    first = fh.read(8)
    if not isinstance(first, bytes):
        _binary_only(where)
    # NOTE: a real header length can begin with a pickle or zip signature (a length of 640 is
    # b"\x80\x02..."), so the signature only explains a header that fails validation
    known = _format_of(first)

    def bad(msg):
        _fail(where, f"this is {known}" if known else msg)

    if size < 8 or len(first) != 8:
        bad(f"{size} bytes is too small for a safetensors file (truncated?)")
    n = int.from_bytes(first, "little")
    if n > size - 8:
        bad(f"the header claims {n} bytes but the file has only {size - 8} after the length "
            "field (truncated or not a safetensors file)")
    if n > _MAX_HEADER:
        bad(f"the header claims {n} bytes, above the {_MAX_HEADER}-byte limit")
    if n < 2:
        bad("the header is empty")
    raw = fh.read(n)
    if len(raw) != n:
        bad("file ends inside the header (truncated)")
    if raw[:1] != b"{":
        bad("the header is not a JSON object")
    try:
        header = _parse_json(raw, where, "header", size + _PARSE_FLOOR)
    except CheckpointError:
        if known:
            bad("")
        raise
    del raw
    data_len = size - 8 - n
    entries, meta = _validate(header, data_len, where)
    del header

    arrays = {}
    for name, code, shape, begin, end in entries:
        if code == "BF16":
            arrays[name] = _read_bf16(fh, shape, where, name)
            continue
        buf = np.empty(end - begin, dtype=np.uint8)
        _read_exact(fh, buf, where, name)
        arr = buf.view(_CODES[code]).reshape(shape)
        if arr.dtype.byteorder == "<" and not np.little_endian:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        arrays[name] = arr

    tree = meta.get(_TREE)
    digest = meta.get(_SUM)
    if tree is None and digest is None:
        return {name: _Decoder(arrays, where)._tensor({"T": name}) for name in sorted(arrays)}
    if tree is None or digest is None:
        _fail(where, "the chainrule metadata is incomplete (corrupted file)")
    codes = {e[0]: e[1] for e in entries}
    if _digest(arrays, codes, tree) != digest:
        _fail(where, "checksum mismatch: the file is corrupted")
    return _Decoder(arrays, where).decode(_parse_json(tree, where, "object tree",
                                                      size + _PARSE_FLOOR))
