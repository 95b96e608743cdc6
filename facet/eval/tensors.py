"""Input and output of `facet eval`: the tensors of an .npz/.npy file, their classes, JSON."""

import json
import re
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["load_tensors", "check_output_path", "tensor_class", "dump_json"]

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members, an empty zip
_NPY_MAGIC = b"\x93NUMPY"


# -- input and output ---------------------------------------------------------------------

def _one_line(e):
    """An exception's text on one line: a user-facing error is one line."""
    return " ".join(str(e).split())


def load_tensors(path, skipped=None):
    """``{name: float32 array}`` from a .npy or .npz file.

    Parameters
    ----------
    path : str or Path
        A .npy file (one tensor, named ``"tensor"``) or a .npz archive.
    skipped : list or None
        If given, receives ``(name, reason)`` for each array of an .npz that is left out:
        arrays that are not floating point, are empty, or hold pickled objects.

    Returns
    -------
    dict of str to numpy.ndarray

    Raises
    ------
    ValueError
        With a one-line message naming the file when it is missing, a directory, empty,
        not a NumPy file, corrupt, or holds no usable floating-point array.
    """
    p = Path(path)
    kind = p.suffix
    if kind not in (".npy", ".npz"):
        raise ValueError(f"{path}: expected a .npy or .npz file")
    if not p.exists():
        raise ValueError(f"{path}: no such file")
    if p.is_dir():
        raise ValueError(f"{path}: is a directory, not a {kind} file")
    try:
        with open(p, "rb") as f:
            head = f.read(len(_NPY_MAGIC))
    except OSError as e:
        raise ValueError(f"{path}: cannot read: {e.strerror or e}") from None
    if not head:
        raise ValueError(f"{path}: empty file")
    want = _ZIP_MAGIC if kind == ".npz" else (_NPY_MAGIC,)
    if not any(head.startswith(m) for m in want):
        what = "a zip archive of .npy arrays" if kind == ".npz" else "a NumPy array file"
        raise ValueError(f"{path}: not a {kind} file (it does not start like {what})")
    tensors, left_out = {}, []
    try:
        if kind == ".npy":
            arrays = {"tensor": np.load(p, allow_pickle=False)}
        else:
            with np.load(p, allow_pickle=False) as z:
                arrays = {}
                for k in z.files:
                    try:
                        arrays[k] = z[k]
                    except ValueError as e:
                        if "pickle" not in str(e):
                            raise
                        # An object array: its pickle is never loaded.
                        left_out.append((k, "holds Python objects"))
    except ValueError as e:
        if "pickle" in str(e):  # an object array in a .npy
            raise ValueError(f"{path}: holds Python objects, not numbers") from None
        raise ValueError(f"{path}: corrupt {kind} file ({_one_line(e)})") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise ValueError(f"{path}: corrupt {kind} file ({type(e).__name__}: {_one_line(e)})") from None
    for name, t in arrays.items():
        if t.dtype.kind != "f":
            left_out.append((name, f"{t.dtype}, not floating point"))
        elif t.size == 0:
            left_out.append((name, "empty"))
        else:
            tensors[name] = np.asarray(t, np.float32)
    if skipped is not None:
        skipped.extend(left_out)
    if not tensors:
        found = "; ".join(f"{n}: {r}" for n, r in left_out) or "no arrays"
        raise ValueError(f"{path}: no usable floating-point array ({found})")
    return tensors


def check_output_path(path, option, directory=False):
    """Fail early, with a one-line ValueError naming ``option``, if ``path`` cannot be written.

    A file path needs an existing parent directory and must not be a directory; a directory
    path (``directory=True``) is created later, so its parent must exist and it must not be
    a file.
    """
    p = Path(path)
    parent = p.parent
    if not parent.is_dir():
        raise ValueError(f"{option} {path}: directory {parent} does not exist")
    if directory and p.exists() and not p.is_dir():
        raise ValueError(f"{option} {path}: exists and is not a directory")
    if not directory and p.is_dir():
        raise ValueError(f"{option} {path}: is a directory")
    if not directory:  # the one sure test that the file can be written is to open it
        existed = p.exists()
        try:
            with open(p, "a"):
                pass
        except OSError as e:
            raise ValueError(f"{option} {path}: cannot be written ({e.strerror})") from None
        if not existed:
            p.unlink()


def tensor_class(name):
    """Class of a tensor name: ``L3.gelu_in`` -> ``gelu_in``."""
    return re.sub(r"^(L\d+|emb)\.", "", name)


def _groups(tensors, by_class):
    """``{row name: [flattened tensors]}``, pooling each class when ``by_class``.

    Every method runs on each tensor on its own, as it would in use: blocks never straddle
    two tensors, and per-tensor scales (NVFP4, scaled FP8) see one tensor. The error is then
    pooled over the group.
    """
    members = {}
    for name in tensors:
        members.setdefault(tensor_class(name) if by_class else name, []).append(tensors[name].reshape(-1))
    return members

def dump_json(obj, path):
    """Write ``obj`` as indented JSON (infinite SNR of a lossless method as ``Infinity``)."""
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, allow_nan=True)
