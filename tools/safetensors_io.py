"""safetensors read and write for the tool scripts, with the standard library
and numpy (Debian has no python3-safetensors): an 8-byte little-endian header
length, a JSON header padded with spaces to 8 bytes, then little-endian data.
Float32 and float64 only, which is what bptt's fixtures hold.
"""
import json
import struct

import numpy as np

NUMPY = {"F32": "<f4", "F64": "<f8"}


def write_safetensors(path, arrays, metadata=None):
    """arrays: name -> numpy array (float64 stays F64, anything else is written as F32)."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, a in arrays.items():
        dtype = "F64" if a.dtype == np.float64 else "F32"
        raw = np.ascontiguousarray(a).astype(NUMPY[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(chunks))


def read_safetensors(path):
    """name -> numpy array (writable copies)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(body[begin:end], dtype=NUMPY[info["dtype"]]).reshape(info["shape"]).copy()
    return out
