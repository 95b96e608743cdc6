"""The torch codec against the NumPy model, bit for bit: shared by the torch tests."""

import numpy as np
import torch

import facet
import facet.torch as ft

__all__ = ["torch_raw", "check_against_model", "odd_float_tensor", "check_float_tensor"]

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


def odd_float_tensor(n, rng):
    """A (3, 5, n + 3) float32 array whose length is no multiple of N, with NaN, Inf, zeros,
    a subnormal and values near the format limits."""
    x = (rng.standard_normal((3, 5, n + 3)) * np.exp(4 * rng.standard_normal((3, 5, n + 3)))).astype(np.float32)
    x.flat[::29] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-41, 7e4, -3e38][: len(x.flat[::29])]
    return x


def check_float_tensor(cfg, x):
    """Float input of any shape, padded to whole blocks and cut back, matches the model."""
    flat = np.concatenate([x.reshape(-1), np.zeros(-x.size % cfg.n, np.float32)])
    want = facet.encode(flat, cfg)
    got = ft.encode(torch.from_numpy(x), cfg)
    np.testing.assert_array_equal(got.numpy(), want, err_msg=cfg.name)
    y = ft.decode(got, cfg, x.shape)
    assert y.shape == x.shape and y.dtype == torch.float32
    ref = facet.to_float(facet.decode(want, cfg), cfg)[: x.size].reshape(x.shape)
    np.testing.assert_array_equal(y.numpy().view(np.uint32), ref.view(np.uint32), err_msg=cfg.name)
