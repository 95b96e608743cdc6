"""Bit-field access to packed blocks (facet/bitfield.py), against a bit array."""

import numpy as np
import pytest

from facet.bitfield import get_fields, join_fields, load_fields, or_fields, put_fields, split_fields


def _bits(blocks):
    return np.unpackbits(blocks, axis=1, bitorder="little").astype(np.int64)


def _field(bits, pos, width):
    """The field of ``width`` bits at ``pos`` of each block, bits outside it 0, from bits."""
    out = np.zeros(pos.shape, np.uint64)
    for j in range(width):
        q = pos + j
        inside = (q >= 0) & (q < bits.shape[1])
        bit = np.take_along_axis(bits, np.clip(q, 0, bits.shape[1] - 1), axis=1) * inside
        out |= bit.astype(np.uint64) << np.uint64(j)
    return out


@pytest.mark.parametrize("nbytes", [5, 32, 33])
def test_load_fields_reads_57_bits_anywhere(nbytes):
    rng = np.random.default_rng(nbytes)
    blocks = rng.integers(0, 256, (50, nbytes), dtype=np.uint8)
    pos = rng.integers(-70, 8 * nbytes + 10, (50, 12))
    got = load_fields(blocks, pos) & np.uint64((1 << 57) - 1)
    np.testing.assert_array_equal(got, _field(_bits(blocks), pos, 57))
    np.testing.assert_array_equal(load_fields(blocks, pos) & np.uint64(0xFFFF),
                                  get_fields(blocks, pos, np.full(pos.shape, 16)))


@pytest.mark.parametrize("nbytes", [5, 32, 33])
def test_or_fields_sets_exactly_the_field_bits(nbytes):
    rng = np.random.default_rng(nbytes + 1)
    nb, k = 40, 6
    blocks = rng.integers(0, 256, (nb, nbytes), dtype=np.uint8)
    pos = rng.integers(-60, 8 * nbytes + 4, (nb, k))
    width = rng.integers(0, 58, (nb, k))
    values = rng.integers(0, 1 << 62, (nb, k), dtype=np.uint64) & ((np.uint64(1) << width.astype(np.uint64)) - np.uint64(1))
    want = _bits(blocks)
    for j in range(k):                               # fields may overlap: OR them bit by bit
        for b in range(nb):
            for i in range(width[b, j]):
                q = pos[b, j] + i
                if 0 <= q < 8 * nbytes:
                    want[b, q] |= int(values[b, j] >> np.uint64(i)) & 1
    got = or_fields(blocks, pos, values)
    assert got.shape == blocks.shape
    np.testing.assert_array_equal(_bits(got), want)


def test_put_and_get_fields_round_trip():
    rng = np.random.default_rng(3)
    nb, nbits = 30, 256
    width = rng.integers(0, 40, (nb, 6))
    pos = np.cumsum(width, axis=1) - width + rng.integers(0, 3, (nb, 1))
    values = rng.integers(0, 1 << 40, (nb, 6), dtype=np.uint64) & ((np.uint64(1) << width.astype(np.uint64)) - np.uint64(1))
    blocks = put_fields(nb, nbits, pos, values)
    np.testing.assert_array_equal(get_fields(blocks, pos, width), values)


def test_split_undoes_join():
    rng = np.random.default_rng(4)
    width = rng.integers(0, 6, (20, 16)).astype(np.uint8)
    values = rng.integers(0, 32, (20, 16)).astype(np.uint8) & ((np.uint8(1) << width) - np.uint8(1))
    for upper_first in (True, False):
        joined, jw = join_fields(values, width, 8, upper_first, max_width=5)
        assert jw.shape == (20, 2) and (jw == width.reshape(20, 2, 8).sum(axis=2)).all()
        np.testing.assert_array_equal(split_fields(joined, width, 8, upper_first, max_width=5), values)
