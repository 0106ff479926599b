"""The wire format between the grader and its worker: plain data only, never pickle.

A frame is ``b"NNG1"``, the header length (4 bytes, big-endian), a UTF-8 JSON header, then raw
buffers whose lengths the header lists under ``"buffers"``. Values in the header are JSON, with
one-key objects as tags for what JSON lacks:

    {"$t": [...]}                      tuple
    {"$d": [[key, value], ...]}        dict (keys may be any hashable plain value)
    {"$a": i, "d": "<f8", "s": [2, 3]} ndarray of numeric or bool dtype, raw bytes in buffer i
    {"$n": i, "d": "<f4"}              numpy scalar, its bytes in buffer i
    {"$c": [re, im]}                   complex
    {"$b": i}                          bytes
    {"$y": "<f8", "k": "dtype"}        a numeric dtype ("type": its scalar type; "py": float...)
    {"$h": id, "t": "TypeName"}        a live object kept by the worker (a handle)

The grader's side validates a frame completely (sizes, dtypes, shapes, nesting, buffer use)
before it allocates the buffers, and builds nothing but the types above. This module imports
only the standard library and numpy, because the worker loads a copy of it.
It stays one file (over 400 lines) for the same reason: the worker loads this file alone, so
the encoder and the validating decoder must both be in it.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
from collections.abc import Callable
from typing import Any

import numpy as np

MAGIC = b"NNG1"
PREFIX = struct.Struct(">4sI")
CHUNK = 1 << 16
DTYPE_RE = re.compile(r"^[<>|=][biufc][0-9]{1,2}$")
SCALAR_TYPES = frozenset(np.dtype(code).type for code in "?bhilqpBHILQPefdgFDG")
HASHABLE_LEAVES = (type(None), bool, int, float, str, complex)
PY_TYPES = {t.__name__: t for t in (bool, int, float, complex)}
MAX_DIMS = 32
MAX_BUFFERS = 1 << 16


class ProtocolError(ValueError):
    """A frame or value that the protocol does not allow; the message says what and where."""


def describe_type(value: Any) -> str:
    """A short, readable name for the type of a value the protocol refuses."""
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    name = getattr(kind, "__qualname__", kind.__name__)
    full = name if module in ("builtins", "") else f"{module}.{name}"
    if isinstance(value, np.ndarray):
        if kind is not np.ndarray:
            return f"{full} (an ndarray subclass)"
        return f"ndarray of dtype {value.dtype}"
    return full[:200]


def refusal(value: Any) -> str:
    """Why ``value`` cannot cross as plain data."""
    if isinstance(value, np.ndarray):
        if type(value) is not np.ndarray:
            return f"{describe_type(value)}: only plain numpy arrays are accepted"
        return f"array of dtype {value.dtype}: only numeric or bool arrays are accepted"
    return f"{describe_type(value)} is not plain data (numbers, strings, lists, dicts, arrays)"


# ------------------------------------------------------------------------------------ encoding
class Encoder:
    """Turn a value into a JSON-able tree plus raw buffers.

    ``on_other(value, path)`` decides what happens to anything that is not plain data: the
    worker keeps it alive and returns a handle tag; the grader raises.
    """

    def __init__(self, on_other: Callable[[Any, str], Any], max_depth: int = 32) -> None:
        self.on_other = on_other
        self.max_depth = max_depth
        self.buffers: list[memoryview] = []

    def _buffer(self, data: Any) -> int:
        if isinstance(data, np.ndarray):
            data = data.reshape(-1).view(np.uint8)
        self.buffers.append(memoryview(data))
        return len(self.buffers) - 1

    def encode(self, value: Any, path: str = "value", depth: int = 0) -> Any:
        kind = type(value)
        if value is None or kind is bool or kind is str or kind is int:
            return value
        if kind is float:
            return value if math.isfinite(value) else {"$f": repr(value)}
        if depth >= self.max_depth:
            return self.on_other(value, path)
        if kind is list:
            return [self.encode(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
        if kind is tuple:
            return {"$t": [self.encode(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]}
        if kind is dict:
            if not all(_hashable_plain(k) for k in value):
                return self.on_other(value, path)
            return {
                "$d": [
                    [self.encode(k, path, depth + 1), self.encode(v, f"{path}[{k!r}]", depth + 1)]
                    for k, v in value.items()
                ]
            }
        if kind is np.ndarray and _plain_dtype(value.dtype):
            data = value if value.flags.c_contiguous else value.copy(order="C")
            return {"$a": self._buffer(data), "d": data.dtype.str, "s": list(data.shape)}
        if kind in SCALAR_TYPES:
            data = np.asarray(value)
            return {"$n": self._buffer(data.reshape(1)), "d": data.dtype.str}
        if kind is complex:
            return {"$c": [self.encode(value.real), self.encode(value.imag)]}
        if kind is bytes:
            return {"$b": self._buffer(value)}
        if isinstance(value, np.dtype) and _plain_dtype(value):
            return {"$y": value.str, "k": "dtype"}
        if kind is type and value in SCALAR_TYPES:
            return {"$y": np.dtype(value).str, "k": "type"}
        if kind is type and PY_TYPES.get(value.__name__) is value:
            return {"$y": value.__name__, "k": "py"}
        return self.on_other(value, path)


def _plain_dtype(dtype: np.dtype) -> bool:
    return dtype.kind in "biufc" and dtype.fields is None and dtype.subdtype is None


def _hashable_plain(key: Any) -> bool:
    if type(key) in HASHABLE_LEAVES:
        return True
    return type(key) is tuple and all(_hashable_plain(k) for k in key)


def frame(header: dict, buffers: list[memoryview]) -> list[Any]:
    """The parts of one frame, ready for ``os.writev``."""
    header["buffers"] = [b.nbytes for b in buffers]
    text = json.dumps(header, separators=(",", ":")).encode()
    return [PREFIX.pack(MAGIC, len(text)) + text, *buffers]


def advance(views: list[memoryview], sent: int) -> None:
    """Drop the first ``sent`` bytes of ``views`` (what one writev call took), in place."""
    while sent:
        if sent >= views[0].nbytes:
            sent -= views[0].nbytes
            views.pop(0)
        else:
            views[0] = views[0][sent:]
            sent = 0


def write_all(fd: int, parts: list[Any]) -> None:
    """Blocking write of a frame (the worker's side)."""
    views = [memoryview(p).cast("B") for p in parts if len(p)]
    while views:
        advance(views, os.writev(fd, views[:512]))


# ------------------------------------------------------------------------------------ decoding
class Decoder:
    """Check a received header tree against its buffers, then build the values.

    ``check`` runs before any buffer is allocated; ``build`` only ever creates plain types,
    numpy arrays and scalars of numeric dtypes, and whatever ``make_handle`` returns.
    """

    def __init__(self, make_handle: Callable[[dict], Any], max_depth: int = 32) -> None:
        self.make_handle = make_handle
        self.max_depth = max_depth

    def check_body(self, header: dict, sizes: list[int]) -> None:
        """Validate the values of a frame (all under ``header["body"]``) before allocation."""
        self.check(header.get("body"), sizes, set())

    def check(self, node: Any, sizes: list[int], used: set[int], depth: int = 0) -> None:
        kind = type(node)
        if node is None or kind in (bool, int, float, str):
            return
        if depth > self.max_depth:
            raise ProtocolError(f"values nested deeper than {self.max_depth} levels")
        if kind is list:
            for item in node:
                self.check(item, sizes, used, depth + 1)
            return
        if kind is not dict or len(node) == 0:
            raise ProtocolError(f"unexpected {kind.__name__} in a message")
        tag = next(iter(node))
        if tag == "$t" and len(node) == 1 and type(node[tag]) is list:
            for item in node[tag]:
                self.check(item, sizes, used, depth + 1)
        elif tag == "$d" and len(node) == 1 and type(node[tag]) is list:
            for pair in node[tag]:
                if type(pair) is not list or len(pair) != 2:
                    raise ProtocolError("malformed dict entry")
                self.check(pair[0], sizes, used, depth + 1)
                self.check(pair[1], sizes, used, depth + 1)
        elif tag == "$a" and set(node) == {"$a", "d", "s"}:
            dtype = _dtype(node["d"])
            shape = node["s"]
            if type(shape) is not list or len(shape) > MAX_DIMS:
                raise ProtocolError("malformed array shape")
            if not all(type(n) is int and 0 <= n < 1 << 48 for n in shape):
                raise ProtocolError(f"malformed array shape {shape!r}"[:200])
            count = math.prod(shape)
            self._use(node["$a"], count * dtype.itemsize, sizes, used)
        elif tag == "$n" and set(node) == {"$n", "d"}:
            self._use(node["$n"], _dtype(node["d"]).itemsize, sizes, used)
        elif tag == "$b" and len(node) == 1:
            self._use(node["$b"], None, sizes, used)
        elif tag == "$c" and len(node) == 1 and type(node[tag]) is list and len(node[tag]) == 2:
            for part in node[tag]:
                if type(part) not in (int, float) and not _special_float(part):
                    raise ProtocolError("malformed complex number")
        elif tag == "$f" and len(node) == 1:
            if not _special_float(node):
                raise ProtocolError("malformed float")
        elif tag == "$y" and set(node) == {"$y", "k"}:
            if node["k"] == "py":
                if node["$y"] not in PY_TYPES:
                    raise ProtocolError("unknown type name")
            elif node["k"] in ("dtype", "type"):
                _dtype(node["$y"])
            else:
                raise ProtocolError("malformed dtype")
        elif tag == "$h" and set(node) <= {"$h", "t"}:
            if type(node["$h"]) is not int or type(node.get("t", "")) is not str:
                raise ProtocolError("malformed handle")
        else:
            raise ProtocolError(f"unknown value tag {tag!r}"[:80])

    @staticmethod
    def _use(index: Any, nbytes: int | None, sizes: list[int], used: set[int]) -> None:
        if type(index) is not int or not 0 <= index < len(sizes) or index in used:
            raise ProtocolError("array refers to a missing or reused buffer")
        if nbytes is not None and sizes[index] != nbytes:
            raise ProtocolError(f"buffer of {sizes[index]} bytes for {nbytes} bytes of data")
        used.add(index)

    def build(self, node: Any, buffers: list[Any]) -> Any:
        kind = type(node)
        if node is None or kind in (bool, int, float, str):
            return node
        if kind is list:
            return [self.build(item, buffers) for item in node]
        tag = next(iter(node))
        if tag == "$t":
            return tuple(self.build(item, buffers) for item in node[tag])
        if tag == "$d":
            out = {}
            for key, value in node[tag]:
                key = self.build(key, buffers)
                if not _hashable_plain(key):
                    raise ProtocolError("dict key that is not a plain hashable value")
                out[key] = self.build(value, buffers)
            return out
        if tag == "$a":
            dtype = _dtype(node["d"])
            return np.frombuffer(buffers[node["$a"]], dtype=dtype).reshape(node["s"])
        if tag == "$n":
            return np.frombuffer(buffers[node["$n"]], dtype=_dtype(node["d"]))[0]
        if tag == "$b":
            return bytes(buffers[node["$b"]])
        if tag == "$c":
            return complex(*(self.build(part, buffers) for part in node[tag]))
        if tag == "$f":
            return float(node[tag])
        if tag == "$y":
            if node["k"] == "py":
                return PY_TYPES[node["$y"]]
            dtype = _dtype(node["$y"])
            return dtype if node["k"] == "dtype" else dtype.type
        return self.make_handle(node)


def _special_float(node: Any) -> bool:
    if type(node) is dict and set(node) == {"$f"}:
        return node["$f"] in ("nan", "inf", "-inf")
    return type(node) in (int, float)


def _dtype(text: Any) -> np.dtype:
    if type(text) is not str or not DTYPE_RE.match(text):
        raise ProtocolError(f"refused dtype {text!r}"[:80])
    dtype = np.dtype(text)
    if not _plain_dtype(dtype):
        raise ProtocolError(f"refused dtype {text!r}")
    return dtype


# ------------------------------------------------------------------------------------- reading
class FrameReader:
    """Assemble frames from a byte stream, in blocking or non-blocking mode.

    Limits are checked on the header before the payload is allocated: the header size, the
    declared buffer sizes against ``max_bytes``, and (by ``check``) every value in the header.
    """

    def __init__(
        self,
        fd: int,
        check: Callable[[dict, list[int]], None],
        max_header: int = 16 << 20,
        max_bytes: int = 1 << 30,
    ) -> None:
        self.fd = fd
        self.check = check
        self.max_header = max_header
        self.max_bytes = max_bytes
        self.stage = bytearray()
        self.eof = False
        self._reset()

    def _reset(self) -> None:
        self.header: dict | None = None
        self.buffers: list[bytearray] = []
        self.filling = 0
        self.filled = 0

    def _parse_header(self) -> bool:
        if len(self.stage) < PREFIX.size:
            return False
        magic, length = PREFIX.unpack_from(self.stage)
        if magic != MAGIC:
            raise ProtocolError("garbage on the reply channel")
        if length > self.max_header:
            raise ProtocolError(f"message header of {length} bytes (limit {self.max_header})")
        if len(self.stage) < PREFIX.size + length:
            return False
        text = bytes(self.stage[PREFIX.size : PREFIX.size + length])
        del self.stage[: PREFIX.size + length]
        try:
            header = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ProtocolError(f"unreadable message header ({type(exc).__name__})") from None
        if type(header) is not dict:
            raise ProtocolError("message header is not an object")
        sizes = header.get("buffers", [])
        if (
            type(sizes) is not list
            or len(sizes) > MAX_BUFFERS
            or not all(type(n) is int and n >= 0 for n in sizes)
        ):
            raise ProtocolError("malformed buffer list")
        total = sum(sizes)
        if total > self.max_bytes:
            raise ProtocolError(f"message of {total} bytes (limit {self.max_bytes})")
        try:
            self.check(header, sizes)
        except RecursionError:
            raise ProtocolError("values nested too deeply") from None
        self.header = header
        self.buffers = [bytearray(n) for n in sizes]
        return True

    def _fill_from_stage(self) -> None:
        while self.stage and self.filling < len(self.buffers):
            target = self.buffers[self.filling]
            take = min(len(target) - self.filled, len(self.stage))
            target[self.filled : self.filled + take] = self.stage[:take]
            del self.stage[:take]
            self.filled += take
            self._advance()

    def _advance(self) -> None:
        while self.filling < len(self.buffers) and self.filled == len(self.buffers[self.filling]):
            self.filling += 1
            self.filled = 0

    def _take(self) -> tuple[dict, list[bytearray]]:
        result = (self.header, self.buffers)
        self._reset()
        return result

    def _complete(self) -> tuple[dict, list[bytearray]] | None:
        if self.header is None and not self._parse_header():
            return None
        self._advance()
        self._fill_from_stage()
        if self.filling == len(self.buffers):
            return self._take()
        return None

    def poll(self) -> list[tuple[dict, list[bytearray]]]:
        """Read what is available (the fd may be non-blocking); return the finished frames.

        Raises EOFError once the stream has ended and every frame before the end was returned,
        and ProtocolError on a bad frame.
        """
        frames = []
        while True:
            done = self._complete()
            if done is not None:
                frames.append(done)
                continue
            if self.eof:
                if frames:
                    return frames
                raise EOFError
            try:
                if self.header is not None and self.filling < len(self.buffers):
                    view = memoryview(self.buffers[self.filling])[self.filled :]
                    count = os.readv(self.fd, [view])
                    if count == 0:
                        self.eof = True
                        continue
                    self.filled += count
                    self._advance()
                    continue
                chunk = os.read(self.fd, CHUNK)
            except BlockingIOError:
                return frames
            if not chunk:
                self.eof = True
                continue
            self.stage += chunk

    def read_frame(self) -> tuple[dict, list[bytearray]]:
        """Blocking read of exactly one frame (the worker's side)."""
        while True:
            done = self._complete()
            if done is not None:
                return done
            if self.header is not None and self.filling < len(self.buffers):
                view = memoryview(self.buffers[self.filling])[self.filled :]
                count = os.readv(self.fd, [view])
                if count == 0:
                    raise EOFError
                self.filled += count
                self._advance()
                continue
            chunk = os.read(self.fd, CHUNK)
            if not chunk:
                raise EOFError
            self.stage += chunk
