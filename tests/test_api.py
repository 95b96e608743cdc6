"""The public API: the README's Python example runs as written, and every bad argument gets
one ValueError that names it."""

import doctest
from pathlib import Path

import numpy as np
import pytest

import facet

X = np.zeros(32, np.float32)
RAW = np.zeros(32, np.uint16)

CASES = {
    "format name": (lambda: facet.Config("BF16"), "format must be one of"),
    "format not a string": (lambda: facet.Config(["bf16"]), "format must be one of"),
    "block size": (lambda: facet.Config("bf16", 24), "block size N"),
    "bits not a number": (lambda: facet.Config("bf16", 32, "8"), "must be a number"),
    "bits a bool": (lambda: facet.Config("bf16", 32, True), "must be a number"),
    "bits not whole bytes": (lambda: facet.Config("bf16", 8, 4.5), "whole number of bytes"),
    "k a bool": (lambda: facet.Config(k=True), "delta planes K"),
    "k for vlc": (lambda: facet.Config(k=2, policy="vlc"), "K must be None"),
    "policy": (lambda: facet.Config(policy="best"), "policy must be one of"),
    "encode without a config": (lambda: facet.encode(X, None), "cfg must be a facet.Config"),
    "decode without a config": (lambda: facet.decode(np.zeros(32, np.uint8), "bf16"), "cfg must be a facet.Config"),
    "decode of non-bytes": (lambda: facet.decode(np.zeros(32, np.uint16), facet.Config()), "must be uint8"),
    "decode of a partial block": (lambda: facet.decode(np.zeros(31, np.uint8), facet.Config()), "whole number"),
    "encode of a partial block": (lambda: facet.encode(X[:31], facet.Config()), "whole number of blocks"),
    "encode of raw bits of another width": (lambda: facet.encode(RAW.astype(np.uint32), facet.Config()), "must be uint16"),
    "to_float of an unknown format": (lambda: facet.to_float(RAW, "FP32"), "fmt must be a facet.Config"),
    "to_float of a non-format": (lambda: facet.to_float(RAW, None), "fmt must be a facet.Config"),
}


@pytest.mark.parametrize("name", CASES)
def test_bad_argument_raises_value_error(name):
    call, match = CASES[name]
    with pytest.raises(ValueError, match=match):
        call()


def test_to_float_takes_a_config():
    assert facet.to_float(np.array([0x3F80], np.uint16), facet.Config()).tolist() == [1.0]
    assert facet.to_float(np.array([0x3C00], np.uint16), facet.Config("fp16", 16, 8)).tolist() == [1.0]


def test_readme_example():
    """The README's ``>>>`` lines, run by doctest: their printed results are what they show."""
    readme = Path(__file__).resolve().parents[1] / "README.md"
    result = doctest.testfile(str(readme), module_relative=False, verbose=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, "README.md has no >>> example"
    assert result.failed == 0, f"{result.failed} of the README's >>> lines differ (see above)"

