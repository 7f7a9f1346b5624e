"""The safetensors format by its specification alone (the `safetensors` package is not in Debian): an 8-byte
little-endian header length, a JSON header (dtype, shape, data_offsets per tensor; string "__metadata__"), then the
raw little-endian tensor data. Shared by the scripts that write kiln's golden files and read its checkpoints."""
import json
import struct

import torch

DTYPE_CODES = {torch.float32: "F32", torch.float64: "F64", torch.int32: "I32", torch.int64: "I64"}
TORCH_DTYPES = {code: dtype for dtype, code in DTYPE_CODES.items()}


def write_safetensors(path, tensors, metadata=None):
    """Writes `tensors` (name -> tensor) and `metadata` (name -> string) to `path`."""
    header, blobs, offset = {}, [], 0
    for key, value in tensors.items():
        value = value.detach().contiguous().cpu()
        blob = value.numpy().tobytes()
        header[key] = {"dtype": DTYPE_CODES[value.dtype], "shape": list(value.shape),
                       "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # keeps the data 8-byte aligned, as other writers do
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    """Returns (name -> tensor, metadata) of the file at `path`."""
    with open(path, "rb") as file:
        data = file.read()
    (header_length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_length])
    metadata = header.pop("__metadata__", {})
    body = data[8 + header_length:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        flat = torch.frombuffer(bytearray(body[begin:end]), dtype=TORCH_DTYPES[entry["dtype"]])
        tensors[name] = flat.reshape(entry["shape"])
    return tensors, metadata
