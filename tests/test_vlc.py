"""The `vlc` policy (docs/format.md, section 10): worked example, fit rule, round trips,
stability, specials, error bound, foreign blocks."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import facet
from facet import vlc
from facet.config import BLOCK_SIZES, FORMATS, Config, valid_configs
from facet.model import fields, to_bits, to_float
from tb.blocks import activations

EXAMPLE = np.array([0x3F80, 0xBF40, 0x3ED0, 0x4040, 0x0000, 0x3A83, 0x4020, 0xBFA8], np.uint16)


CONFIGS = valid_configs(["vlc"], (4, 4.5, 5, 6, 8, 10, 12, 16))


def _adversarial(cfg, nblocks, seed):
    """Raw bit patterns: random, specials, subnormals and wide exponent spreads."""
    fmt = cfg.fmt
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 1 << fmt.width, (nblocks, cfg.n), dtype=np.uint64)
    pick = rng.random((nblocks, cfg.n))
    raw[pick < 0.05] = fmt.exp_max << fmt.man_bits                       # +Inf
    raw[(pick >= 0.05) & (pick < 0.08)] |= fmt.exp_max << fmt.man_bits     # Inf or NaN
    raw[(pick >= 0.08) & (pick < 0.12)] &= (1 << fmt.man_bits) - 1          # zero or subnormal
    return raw.astype(fmt.dtype).reshape(-1)


def test_worked_example():
    cfg = Config("bf16", 8, 8, policy="vlc")
    blocks = facet.encode(EXAMPLE, cfg)
    assert blocks.tobytes() == bytes.fromhex("80039f4c2a020903")
    assert int.from_bytes(blocks.tobytes(), "little") == 0x0309022A4C9F0380
    out = facet.decode(blocks, cfg)
    assert out.tolist() == [0x3F82, 0xBF44, 0x3ED0, 0x4042, 0x0000, 0x0000, 0x4022, 0xBFAC]


def test_worked_example_stages():
    cfg = Config("bf16", 8, 8, policy="vlc")
    sign, exp, man = fields(EXAMPLE.reshape(1, -1), cfg)
    b = vlc.base(exp, cfg)
    cls = vlc.classes(exp, man, b, cfg)
    assert b.tolist() == [128]
    assert cls.tolist() == [[1, 2, 3, 0, vlc.ZERO, 11, 0, 1]]
    d, mode, cost = vlc.depth(vlc.histogram(cls), cfg)
    assert (d.tolist(), mode.tolist(), cost.tolist()) == ([3], [0], [39])
    p, left = vlc.precision(vlc.histogram(cls), d, cost, cfg)
    assert (p.tolist(), left.tolist()) == ([5], [2])
    assert vlc.widths(cls, d, p, left, cfg).tolist() == [[5, 4, 2, 5, 0, 0, 5, 4]]
    # Codewords h0 | h1 << 1 | g << 2: 1 -> 00, 2 -> 01, 3 -> 10 tail 1, 0 -> 10 tail 0, ZERO -> 11.
    code, length = vlc.codewords(cls, d, mode)
    assert code.tolist() == [[0, 2, 5, 1, 3, 3, 1, 0]]
    assert length.tolist() == [[2, 2, 3, 3, 2, 2, 3, 2]]
    blocks = vlc.pack(b, d, mode, code, length, vlc._signed(cls, d), sign, man,
                      vlc.widths(cls, d, p, left, cfg), cfg)
    assert blocks.tobytes() == bytes.fromhex("80039f4c2a020903")
    bits = "".join(map(str, np.unpackbits(blocks[0], bitorder="little")))
    # Plane 0, plane 1, then the tails of values 2, 3 and 6 (section 10.7).
    assert (bits[14:22], bits[22:30], bits[30:33]) == ("00111110", "01001100", "100")
    hb, hd, hm = vlc.header(blocks, cfg)
    assert (hb.tolist(), hd.tolist(), hm.tolist()) == ([128], [3], [0])
    dcls, end = vlc.unpack_classes(blocks, hd, hm, cfg)
    assert dcls.tolist() == [[1, 2, 3, 0, vlc.ZERO, vlc.ZERO, 0, 1]] and end.tolist() == [33]


def _spec_codeword(mode, d, cls):
    """The codeword of section 10.2 from its index formulas: ``(head, g, f)``, or None."""
    o = (0, 2, 5, 0)[mode]
    if o > d:
        o, mode = 0, 0
    if cls < vlc.DEPTHS and cls > d:
        cls = vlc.ZERO
    if mode == 3 and d == 0:
        return {vlc.ZERO: (0b00, 0, 0), 0: (0b10, 0, 0), vlc.INF: (0b01, 0, 0), vlc.NAN: (0b11, 0, 0)}.get(cls)
    j = d + 1 - o
    n10 = 1 + (j >= 4) + o
    n11 = max(j - 4, 0) + 1 + 2 * (mode == 3)
    f10, f11 = (n10 - 1).bit_length(), (n11 - 1).bit_length()
    w = cls - o
    if cls < vlc.DEPTHS and w == 1:
        return 0b00, 0, 0
    if cls < vlc.DEPTHS and w == 2:
        return 0b10, 0, 0                                  # h0 = 0, h1 = 1
    if cls < vlc.DEPTHS and w in (0, 3):
        return 0b01, w // 3, f10
    if cls < o:
        return 0b01, (1 if j < 4 else 2) + cls, f10
    if cls < vlc.DEPTHS:
        return 0b11, w - 4, f11
    if cls in (vlc.INF, vlc.NAN) and mode != 3:
        return None
    return 0b11, max(j - 4, 0) + cls - vlc.ZERO, f11


def test_code_is_the_two_bit_head_code():
    """Every (mode, depth) code against the index formulas of section 10.2; codebook, the
    encoder tables and the decoder tables agree; the code is prefix-free."""
    for mode in range(vlc.MODES):
        for d in range(vlc.DEPTHS):
            book = vlc.codebook(mode, d)
            words = sorted(book.values())
            assert all(not b.startswith(a) for a, b in zip(words, words[1:])), (mode, d)
            cls = np.arange(vlc.NCLASS, dtype=np.uint8)[None, :]
            code, length = vlc.codewords(cls, np.array([d]), np.array([mode]))
            for c in range(vlc.NCLASS):
                want = _spec_codeword(mode, d, c)
                if want is None:
                    assert c not in book and length[0, c] == 0
                    continue
                head, g, f = want
                assert (int(code[0, c]), int(length[0, c])) == (head | g << 2, 2 + f), (mode, d, c)
                if c in book:
                    word = book[c]
                    assert (int(word[0]) | int(word[1]) << 1, word[2:]) == (head, format(g, f"0{f}b") if f else "")
            assert max(len(w) for w in words) <= 6


def _class_region(cfg, heads, tails):
    """Blocks whose value i has head ``heads[:, i]`` and tail ``tails[:, i]`` (bit strings
    of its tail, MSB first), laid out as section 10.4 says, built bit by bit."""
    n, h = cfg.n, cfg.header_bits
    bits = np.zeros((len(heads), cfg.budget), np.uint8)
    for b in range(len(heads)):
        pos = h + 2 * n
        for i in range(n):
            bits[b, h + i], bits[b, h + n + i] = heads[b, i] & 1, heads[b, i] >> 1
            for bit in tails[b][i][::-1]:                      # LSB first
                bits[b, pos] = int(bit)
                pos += 1
    return bits


@pytest.mark.parametrize("cfg", [Config("bf16", 8, 16, policy="vlc"), Config("fp16", 16, 12, policy="vlc"),
                                 Config("fp32", 64, 8, policy="vlc")], ids=lambda c: c.name)
def test_class_region_layout(cfg):
    """pack places heads and tails where section 10.4 says, and unpack_classes reads them
    back, in every code (mode, depth)."""
    rng = np.random.default_rng(8)
    nb = 64
    d, mode = np.arange(nb) % vlc.DEPTHS, np.arange(nb) // vlc.DEPTHS
    mode = np.where(np.array([0, 2, 5, 0])[mode] > d, 0, mode)
    cls = rng.integers(0, vlc.NCLASS, (nb, cfg.n)).astype(np.uint8)
    cls = np.where((mode[:, None] < 3) & (cls >= vlc.INF), vlc.ZERO, cls)
    # Few enough tail bits to fit the budget: the longest codes are kept to a few values.
    code, length = vlc.codewords(cls, d, mode)
    budget = cfg.budget - cfg.header_bits - 2 * cfg.n
    over = np.cumsum(length - 2, axis=1) > budget
    cls[over] = 1 + (np.array([0, 2, 5, 0])[mode][:, None] * np.ones_like(cls))[over]
    cls[over & (d[:, None] == 0)] = 0
    code, length = vlc.codewords(cls, d, mode)
    zero = np.zeros_like(cls)
    blocks = vlc.pack(np.zeros(nb, np.int64), d, mode, code, length, zero.astype(bool), zero, zero, zero, cfg)
    got = np.unpackbits(blocks, axis=1, bitorder="little")
    words = [[vlc.codebook(m, dd).get(c if c >= vlc.DEPTHS or c <= dd else vlc.ZERO) for c in row]
             for m, dd, row in zip(mode, d, cls.tolist())]
    heads = np.array([[int(w[0]) | int(w[1]) << 1 for w in row] for row in words])
    want = _class_region(cfg, heads, [[w[2:] for w in row] for row in words])
    np.testing.assert_array_equal(got[:, cfg.header_bits:], want[:, cfg.header_bits:])
    dcls, end = vlc.unpack_classes(blocks, d, mode, cfg)
    expect = np.where((cls < vlc.DEPTHS) & (cls > d[:, None]), vlc.ZERO, cls)
    np.testing.assert_array_equal(dcls, expect)
    np.testing.assert_array_equal(end, cfg.header_bits + length.astype(np.int64).sum(axis=1))


def test_unused_branches_decode_as_zero():
    """Every head and tail index of every code decodes to the class codebook gives it, and
    to ZERO where no codeword has it; tails past B read as 0."""
    cfg = Config("bf16", 8, 16, policy="vlc")
    for mode in range(vlc.MODES):
        for d in range(vlc.DEPTHS):
            book = vlc.codebook(mode, d)
            inverse = {w: c for c, w in book.items()}
            width = {int(w[0]) | int(w[1]) << 1: len(w) - 2 for w in book.values()}
            rows, want = [], []
            for head in range(4):
                f = width.get(head, 0)
                for g in range(1 << f):
                    tail = format(g, f"0{f}b") if f else ""
                    rows.append((head, tail))
                    want.append(inverse.get(str(head & 1) + str(head >> 1) + tail, vlc.ZERO))
            heads = np.array([[hd] * cfg.n for hd, _ in rows])
            bits = _class_region(cfg, heads, [[t] * cfg.n for _, t in rows])
            blocks = np.packbits(bits, axis=1, bitorder="little")
            dcls, _ = vlc.unpack_classes(blocks, np.full(len(rows), d), np.full(len(rows), mode), cfg)
            np.testing.assert_array_equal(dcls, np.repeat(np.array(want)[:, None], cfg.n, axis=1), err_msg=f"{mode} {d}")
    # Tails that run past B read zeros there. Mode 3 at D = 15 gives head 11 a 4-bit tail
    # over [4, ..., 15, ZERO, INF, NAN]; at B = 40 the tails start at bit 30 and have 10 bits.
    cfg = Config("bf16", 8, 5, policy="vlc")
    ones = np.full((1, cfg.budget_bytes), 255, np.uint8)
    dcls, end = vlc.unpack_classes(ones, np.array([15]), np.array([3]), cfg)
    assert end.tolist() == [cfg.header_bits + 6 * cfg.n]
    # 1111 (no class), 1111, 11 then two zero bits (index 3: class 7), then index 0: class 4.
    assert dcls.tolist() == [[vlc.ZERO, vlc.ZERO, 7, 4, 4, 4, 4, 4]]


def test_fit_rule():
    """Exactly the configs with H + 3N <= B are valid, for whole and fractional T."""
    for fmt in FORMATS.values():
        for n in BLOCK_SIZES:
            for eighths in range(8, 8 * fmt.width + 1):
                t = eighths / 8
                if (n * eighths) % 64:
                    with pytest.raises(ValueError, match="whole number of bytes"):
                        Config(fmt.name, n, t, policy="vlc")
                elif fmt.exp_bits + 6 + 3 * n <= n * t:
                    cfg = Config(fmt.name, n, t, policy="vlc")
                    assert cfg.budget == n * t and cfg.header_bits == fmt.exp_bits + 6
                else:
                    with pytest.raises(ValueError, match="does not fit"):
                        Config(fmt.name, n, t, policy="vlc")


def test_rates_of_the_reference_block_size():
    for t in (4, 4.5, 6, 8):
        assert Config("bf16", 32, t, policy="vlc").budget == 32 * t
    assert Config("bf16", 32, 4.5, policy="vlc").name == "bf16_n32_t4.5_vlc"
    with pytest.raises(ValueError, match="K must be None"):
        Config("bf16", 32, 8, 3, "vlc")


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
def test_stable_and_fixed_size(cfg):
    """encode(decode(encode(x))) == encode(x), on activations and on adversarial bit patterns."""
    for data in (activations(cfg, 64, 1), _adversarial(cfg, 64, 2)):
        blocks = facet.encode(data, cfg)
        assert blocks.shape == (len(data) // cfg.n, cfg.budget_bytes) and blocks.dtype == np.uint8
        again = facet.encode(facet.decode(blocks, cfg), cfg)
        np.testing.assert_array_equal(again, blocks)


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
def test_lossless_blocks_round_trip(cfg):
    """A block whose lossless size fits decodes to canonical(x) exactly; the lossless size
    is the cost of the encoder's choice when it fits."""
    rng = np.random.default_rng(3)
    fmt = cfg.fmt
    # A zero share from none to all per block, so that blocks of every size occur.
    exp = fmt.bias + rng.integers(-3, 3, (256, cfg.n))
    man = rng.integers(0, 1 << fmt.man_bits, (256, cfg.n))
    raw = (rng.integers(0, 2, (256, cfg.n)) << (fmt.width - 1)) | (exp << fmt.man_bits) | man
    raw[rng.random((256, cfg.n)) < np.linspace(0, 1, 256)[:, None]] = 0
    raw = raw.astype(fmt.dtype).reshape(-1)
    fits = facet.lossless_bits(raw, cfg) <= cfg.budget
    out = facet.decode(facet.encode(raw, cfg), cfg).reshape(-1, cfg.n)
    canon = facet.canonical(raw, cfg).reshape(-1, cfg.n)
    np.testing.assert_array_equal(out[fits], canon[fits])
    assert fits.any()


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(CONFIGS), st.integers(0, 2**32 - 1))
def test_error_bound(cfg, seed):
    """Every kept value keeps its exponent and errs by at most half its last kept bit;
    values coded as ZERO decode to +0."""
    raw = to_bits(activations(cfg, 16, seed), cfg)
    s = vlc.encoder_stages(raw, cfg)
    exp, cls, d, k = s["exp"], s["cls"], s["d"], s["k"]
    out = facet.decode(facet.encode(raw, cfg), cfg).reshape(raw.shape)
    x, y = to_float(raw, cfg.format).astype(np.float64), to_float(out, cfg.format).astype(np.float64)
    kept = (cls < vlc.DEPTHS) & (cls <= d[:, None])
    _, e_out, _ = fields(out, cfg)
    np.testing.assert_array_equal(e_out[kept], exp[kept])
    ulp = np.ldexp(1.0, exp - cfg.fmt.bias - k)     # weight of the last kept bit (x 2)
    assert np.all(np.abs(y - x)[kept] <= ulp[kept] / 2)
    zero = ~kept & (cls == vlc.ZERO)
    assert np.all(out[zero] == 0)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("special", [np.nan, -np.inf])
def test_specials_do_not_wipe_out_the_block(fmt, special):
    """A block with one special keeps its finite values to within one bit of the accuracy
    the same block gets without it; the special comes back."""
    cfg = Config(fmt, 32, 8, policy="vlc")
    rng = np.random.default_rng(11)
    vals = (1.0 + rng.random(32)).astype(np.float32)
    plain = to_float(facet.decode(facet.encode(vals, cfg), cfg), fmt)
    vals[5] = special
    out = to_float(facet.decode(facet.encode(vals, cfg), cfg), fmt)
    assert np.array_equal(out[5], special, equal_nan=True)
    x = np.delete(to_float(to_bits(vals, cfg), fmt), 5)
    err, ref = np.abs(np.delete(out, 5) - x), np.abs(np.delete(plain, 5) - x)
    assert err.max() <= 2 * ref.max() and err.max() <= 2.0 ** -5


@pytest.mark.parametrize("cfg", [Config("bf16", 32, 4, policy="vlc"), Config("bf16", 8, 5, policy="vlc"),
                                 Config("fp16", 16, 4, policy="vlc"), Config("fp32", 64, 4, policy="vlc")],
                         ids=lambda c: c.name)
def test_all_specials_fit(cfg):
    """The fit rule's worst case: a block of nothing but Inf and NaN of both signs."""
    fmt = cfg.fmt
    rng = np.random.default_rng(5)
    raw = (fmt.exp_max << fmt.man_bits) | rng.integers(0, 2, cfg.n) * (1 << (fmt.man_bits - 1))
    raw |= rng.integers(0, 2, cfg.n) << (fmt.width - 1)
    raw = raw.astype(fmt.dtype)
    out = facet.decode(facet.encode(raw, cfg), cfg)
    np.testing.assert_array_equal(out, facet.canonical(raw, cfg))


@pytest.mark.parametrize("cfg", CONFIGS[::3], ids=lambda c: c.name)
def test_every_byte_string_decodes(cfg):
    rng = np.random.default_rng(7)
    blocks = rng.integers(0, 256, (512, cfg.budget_bytes), dtype=np.uint8)
    out = facet.decode(blocks, cfg)
    assert out.shape == (512 * cfg.n,) and out.dtype == np.dtype(cfg.fmt.dtype)
    # Decoding is a function of the bytes: the same bytes in another batch decode the same.
    np.testing.assert_array_equal(facet.decode(blocks[::-1], cfg).reshape(512, -1)[::-1],
                                  out.reshape(512, -1))
