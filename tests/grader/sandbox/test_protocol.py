"""The wire format: exact round trips for plain data, and refusal of everything else."""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.sandbox.protocol import (
    MAGIC,
    Decoder,
    Encoder,
    FrameReader,
    ProtocolError,
    frame,
    write_all,
)


def refuse(value, path):
    raise ProtocolError(f"{path}: refused {type(value).__name__}")


def send_and_receive(value, max_depth=32):
    encoder = Encoder(refuse, max_depth)
    parts = frame({"id": 1, "body": encoder.encode(value)}, encoder.buffers)
    read, write = os.pipe()
    try:
        os.set_blocking(read, False)
        decoder = Decoder(lambda node: ("handle", node["$h"]), max_depth)
        reader = FrameReader(read, decoder.check_body)
        frames = []
        for part in parts:  # written piece by piece, read as it arrives
            for start in range(0, len(part), 40000):
                write_all(write, [memoryview(part).cast("B")[start : start + 40000]])
                frames += reader.poll()
        assert len(frames) == 1
        header, buffers = frames[0]
        return decoder.build(header["body"], buffers)
    finally:
        os.close(read)
        os.close(write)


dtypes = st.one_of(
    hnp.boolean_dtypes(),
    hnp.integer_dtypes(endianness="="),
    hnp.unsigned_integer_dtypes(endianness="="),
    hnp.floating_dtypes(endianness="="),
    hnp.complex_number_dtypes(endianness="="),
)


@given(hnp.arrays(dtypes, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)))
def test_arrays_round_trip_bit_for_bit(array):
    back = send_and_receive(array)
    assert type(back) is np.ndarray and back.dtype == array.dtype and back.shape == array.shape
    assert back.tobytes() == array.tobytes()


def test_large_arrays_and_views_round_trip():
    big = np.arange(3 * 1024 * 1024, dtype=np.float32).reshape(1024, -1)
    view = big[::3, 5:9].T  # not contiguous
    back_big, back_view = send_and_receive((big, view))
    np.testing.assert_array_equal(back_big, big)
    np.testing.assert_array_equal(back_view, view)


plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=10)
    | st.binary(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(plain)
def test_plain_python_values_round_trip_with_their_types(value):
    back = send_and_receive(value)
    assert back == value and repr(back) == repr(value)


def test_special_values_and_dtypes():
    value = [
        float("inf"),
        float("-inf"),
        complex(1, float("inf")),
        np.float16(0.5),
        np.float64,
        np.dtype("<i2"),
        float,
        np.longdouble(1) / 3,
    ]
    back = send_and_receive(value)
    assert back[:2] == value[:2] and back[2] == value[2]
    assert type(back[3]) is np.float16 and back[4] is np.float64 and back[5] == np.dtype("<i2")
    assert back[6] is float and back[7] == value[7] and type(back[7]) is np.longdouble
    assert np.isnan(send_and_receive(float("nan")))


def test_encoder_hands_anything_else_to_on_other_with_its_path():
    seen = []

    def keep(value, path):
        seen.append((type(value).__name__, path))
        return {"$h": len(seen), "t": "x"}

    class Float(float):
        pass

    class Sub(np.ndarray):
        pass

    encoder = Encoder(keep, max_depth=3)
    tree = encoder.encode(
        {
            "a": [Float(1.0), np.zeros(2).view(Sub), np.array([None])],
            "deep": [[[[1]]]],
            (1,): {object(): 1},
        }
    )
    assert [name for name, _ in seen] == ["Float", "Sub", "ndarray", "list", "dict"]
    assert seen[0][1] == "value['a'][0]" and seen[3][1] == "value['deep'][0][0]"
    assert json.dumps(tree)


def check(body, sizes):
    Decoder(lambda node: None, 8).check(body, sizes, set())


@pytest.mark.parametrize(
    ("body", "sizes", "message"),
    [
        ({"$a": 0, "d": "|O8", "s": [1]}, [8], "refused dtype"),
        ({"$a": 0, "d": "<M8", "s": [1]}, [8], "refused dtype"),
        ({"$a": 0, "d": "|V8", "s": [1]}, [8], "refused dtype"),
        ({"$a": 0, "d": "[('a', '<f8')]", "s": [1]}, [8], "refused dtype"),
        ({"$a": 0, "d": "<f8", "s": [-1]}, [8], "malformed array shape"),
        ({"$a": 0, "d": "<f8", "s": [1.0]}, [8], "malformed array shape"),
        ({"$a": 0, "d": "<f8", "s": [1] * 40}, [8], "malformed array shape"),
        ({"$a": 0, "d": "<f8", "s": [2]}, [8], "buffer of 8 bytes for 16 bytes"),
        ({"$a": 3, "d": "<f8", "s": [1]}, [8], "missing or reused buffer"),
        ([{"$b": 0}, {"$b": 0}], [8], "missing or reused buffer"),
        ({"$x": 1}, [], "unknown value tag"),
        ({"$t": [], "extra": 1}, [], "unknown value tag"),
        ({"$d": [[1, 2, 3]]}, [], "malformed dict entry"),
        ({"$y": "object", "k": "py"}, [], "unknown type name"),
        ({"$f": "1e400"}, [], "malformed float"),
        ({"$h": "1"}, [], "malformed handle"),
        ({}, [], "unexpected dict"),
        ([[[[[[[[[[[1]]]]]]]]]]], [], "nested deeper than 8"),
    ],
)
def test_decoder_refuses_malformed_values(body, sizes, message):
    with pytest.raises(ProtocolError, match=message.replace("[", r"\[")):
        check(body, sizes)


def test_dict_keys_must_be_hashable_plain_values():
    decoder = Decoder(lambda node: None, 8)
    body = {"$d": [[[1, 2], 3]]}
    decoder.check(body, [], set())
    with pytest.raises(ProtocolError, match="dict key"):
        decoder.build(body, [])


def raw_frame(header_bytes: bytes, magic: bytes = MAGIC) -> bytes:
    return magic + struct.pack(">I", len(header_bytes)) + header_bytes


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (raw_frame(b"{}", magic=b"XXXX"), "garbage on the reply channel"),
        (b"NNG1" + struct.pack(">I", 1 << 30), "message header of 1073741824 bytes"),
        (raw_frame(b"{not json"), "unreadable message header"),
        (raw_frame(b"[1, 2]"), "header is not an object"),
        (raw_frame(b'{"buffers": [-1]}'), "malformed buffer list"),
        (raw_frame(b'{"buffers": "8"}'), "malformed buffer list"),
        (raw_frame(b'{"buffers": [600, 600]}'), "message of 1200 bytes \\(limit 1000\\)"),
        (raw_frame(b'{"body": ' + b"[" * 5000 + b"]" * 5000 + b"}"), "nested|unreadable"),
        (raw_frame(b'{"body": 1' + b"0" * 5000 + b"}"), "unreadable message header"),
    ],
)
def test_frame_reader_refuses_bad_frames_before_allocating(data, message):
    read, write = os.pipe()
    try:
        os.set_blocking(read, False)
        os.write(write, data[:60000])
        reader = FrameReader(read, Decoder(lambda n: None, 32).check_body, 1 << 20, 1000)
        with pytest.raises(ProtocolError, match=message):
            reader.poll()
    finally:
        os.close(read)
        os.close(write)


def test_frames_before_the_end_of_stream_are_delivered_then_eof():
    encoder = Encoder(refuse)
    first = frame({"id": 1, "body": encoder.encode([1, 2])}, encoder.buffers)
    second = frame({"id": 2, "body": None}, [])
    read, write = os.pipe()
    os.set_blocking(read, False)
    write_all(write, first + second)
    os.close(write)
    reader = FrameReader(read, Decoder(lambda n: None).check_body)
    frames = reader.poll()
    assert [h["id"] for h, _ in frames] == [1, 2]
    with pytest.raises(EOFError):
        reader.poll()
    os.close(read)
