"""The torch codec against the NumPy model, bit for bit: shared by the torch tests."""

import numpy as np
import torch

import facet
import facet.torch as ft

__all__ = ["torch_raw", "check_against_model"]

_NP_SIGNED = {16: np.int16, 32: np.int32}


def torch_raw(raw, fmt):
    """Raw bit patterns as the signed integer tensor the torch codec takes."""
    return torch.from_numpy(raw.view(_NP_SIGNED[fmt.width]).copy())


def check_against_model(cfg, raw):
    """Packed bytes and decoded bits of facet.torch equal the model's on ``raw``; returns the
    torch blocks."""
    want = facet.encode(raw, cfg)
    got = ft.encode(torch_raw(raw, cfg.fmt), cfg)
    assert got.dtype == torch.uint8 and tuple(got.shape) == want.shape
    np.testing.assert_array_equal(got.numpy(), want, err_msg=f"{cfg.name}: packed bytes")
    dec = ft.decode_raw(got, cfg).numpy()
    np.testing.assert_array_equal(dec, facet.decode(want, cfg).astype(np.int64),
                                  err_msg=f"{cfg.name}: decoded bits")
    return got
