"""Coverage checks of the cocotb stimulus itself (no simulator, a few seconds).

For the fast-subset configs of the delta-plane policies and a few sweep configs: the encoder
mix holds truncated and lossless blocks, specials, and truncated blocks of varied exponent
spreads; under ``significance`` the precision P the model picks ranges from near the config's
lowest P to lossless blocks, some values keep no mantissa bits, and the decoder's random
blocks carry every precision P and every presence-mask popcount. Under ``vlc`` (its own
stages, :mod:`facet.vlc`): every depth D and every mode, precisions from P = D - 1 up, blocks
with and without bits over, and foreign blocks naming every depth and mode. Under ``window``
(:mod:`facet.window`): every offset o among truncated blocks, several precisions at each, blocks
with and without bits over, and foreign blocks naming every offset, allowed or not. All
quantities come from the golden models.
"""

import numpy as np
import pytest

from facet import model, vlc, window
from facet.config import Config

from . import stimulus
from .configs import FAST_CONFIGS, spec_id

NB = 1000  # blocks per test in the slow sweep; the fast subset uses more
SPECS = [s for s in FAST_CONFIGS if s[3] not in ("vlc", "window")] + [
    ("bf16", 8, 8, "significance"), ("fp16", 64, 12, "significance"),
    ("fp32", 16, 10, "significance"), ("fp32", 64, 12, "plane"),
]


def _analyse(cfg, raw):
    s = model.encoder_stages(raw, cfg)
    truncated = model.lossless_bits(raw, cfg) > cfg.budget
    spread = np.where(s.zero, -1, s.delta).max(axis=1)  # largest kept delta; -1: nothing kept
    return s, truncated, spread, (s.exp == cfg.fmt.exp_max).any(axis=1)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: spec_id(*s))
def test_encoder_mix(spec):
    fmt, n, t, policy = spec
    cfg = Config(fmt, n, t, policy=policy)
    raw, labels = stimulus.encoder_values(cfg, NB, np.random.default_rng([1, 1]))
    s, truncated, spread, special = _analyse(cfg, raw)
    assert 0.1 < truncated.mean() < 0.9, f"truncated share {truncated.mean():.2f}"
    assert special.mean() > 0.02, f"blocks with Inf/NaN: {special.mean():.3f}"
    cats = {stimulus.CATEGORIES[i] for i in np.unique(labels)}
    assert {"structured_bits", "skewed_spread", "specials", "uniform_bits"} <= cats
    spreads = set(np.unique(spread[truncated]).tolist())
    assert len(spreads) >= min(4, 1 << cfg.k), f"spreads of truncated blocks: {sorted(spreads)}"
    if policy == "significance":
        p, w = s.precision, s.widths
        assert (p >= cfg.max_precision).any(), "no lossless significance block"
        cut = np.unique(p[truncated])
        assert cut.min() <= cfg.min_precision + 2, f"lowest P of truncated blocks {cut.min()}"
        assert cut.size >= (cfg.max_precision - cfg.min_precision) // 2, f"P values {cut}"
        if cfg.k >= 2:
            assert ((w == 0) & ~s.zero).any(), "no kept value without mantissa bits"


@pytest.mark.parametrize("spec", [s for s in SPECS if s[3] == "significance"],
                         ids=lambda s: spec_id(*s))
def test_decoder_random_precision_field(spec):
    cfg = Config(*spec[:3], policy=spec[3])
    blocks, _ = stimulus.random_blocks(cfg, NB, np.random.default_rng([1, 3]))
    seen = set(model.precision_field(blocks, cfg).tolist())
    assert {0, cfg.min_precision, cfg.max_precision} <= seen
    assert len(seen) == cfg.max_precision + 1, f"precision fields seen: {sorted(seen)}"
    _, present = model.header(blocks, cfg)
    assert set(present.sum(axis=1).tolist()) == set(range(cfg.mask_bits + 1))


def _own_stages_mix(spec, policy_model):
    """``(cfg, stages, truncated)`` of the encoder mix under a policy with stages of its own
    (``policy_model``: :mod:`facet.vlc` or :mod:`facet.window`); the mix holds truncated and
    lossless blocks."""
    cfg = Config(*spec[:3], policy=spec[3])
    raw, _ = stimulus.encoder_values(cfg, NB, np.random.default_rng([1, 1]))
    truncated = policy_model.lossless_bits(raw, cfg) > cfg.budget
    assert 0.1 < truncated.mean() < 0.9, f"truncated share {truncated.mean():.2f}"
    return cfg, policy_model.encoder_stages(raw, cfg), truncated


VLC_SPECS = [s for s in FAST_CONFIGS if s[3] == "vlc"] + [
    ("bf16", 8, 8, "vlc"), ("fp16", 16, 8, "vlc"), ("fp32", 64, 12, "vlc"),
]


@pytest.mark.parametrize("spec", VLC_SPECS, ids=lambda s: spec_id(*s))
def test_vlc_encoder_mix(spec):
    cfg, s, truncated = _own_stages_mix(spec, vlc)
    assert (s["hist"][:, vlc.INF] + s["hist"][:, vlc.NAN] > 0).mean() > 0.02, "too few specials"
    assert (np.bincount(s["mode"], minlength=4) > 0).all(), "a mode the encoder never picks"
    depths = set(np.unique(s["d"][truncated]).tolist())
    assert depths == set(range(16)), f"depths of truncated blocks: {sorted(depths)}"
    over = set(np.unique((s["p"] - s["d"])[truncated]).tolist())
    assert {-1, 0} <= over and len(over) >= cfg.fmt.man_bits, f"P - D of truncated: {over}"
    assert (s["left"] > 0).any() and (s["left"] == 0).any(), "bits over: always or never"


@pytest.mark.parametrize("spec", VLC_SPECS, ids=lambda s: spec_id(*s))
def test_vlc_decoder_random_header(spec):
    cfg = Config(*spec[:3], policy=spec[3])
    blocks, _ = stimulus.random_blocks(cfg, NB, np.random.default_rng([1, 3]))
    _, d, mode = vlc.header(blocks, cfg)
    assert set(d.tolist()) == set(range(16)), f"depths: {sorted(set(d.tolist()))}"
    assert set(mode.tolist()) == set(range(4)), f"modes: {sorted(set(mode.tolist()))}"


WINDOW_SPECS = [s for s in FAST_CONFIGS if s[3] == "window"] + [
    ("bf16", 8, 6, "window"), ("fp16", 16, 8, "window"), ("fp32", 64, 12, "window"),
]


@pytest.mark.parametrize("spec", WINDOW_SPECS, ids=lambda s: spec_id(*s))
def test_window_encoder_mix(spec):
    _, s, truncated = _own_stages_mix(spec, window)
    assert s["special"].mean() > 0.02, f"blocks with Inf/NaN: {s['special'].mean():.3f}"
    normal = truncated & ~s["special"]
    offsets = set(np.unique(s["o"][normal]).tolist())
    assert offsets == set(range(window.OFFSETS)), f"offsets of truncated blocks: {offsets}"
    for o in range(window.OFFSETS):
        ps = np.unique(s["p"][normal & (s["o"] == o)])
        assert ps.size >= 2, f"precisions at o = {o}: {ps.tolist()}"
    assert (s["left"][normal] > 0).any() and (s["left"][normal] == 0).any(), \
        "bits over: always or never"
    codes = set(np.unique(s["code"][normal]).tolist())
    assert codes == {0, 1, 2, 3}, f"codes of truncated blocks: {codes}"


@pytest.mark.parametrize("spec", WINDOW_SPECS, ids=lambda s: spec_id(*s))
def test_window_decoder_random_header(spec):
    cfg = Config(*spec[:3], policy=spec[3])
    blocks, _ = stimulus.random_blocks(cfg, NB, np.random.default_rng([1, 3]))
    b, o = window.header(blocks, cfg)
    code, _ = window.unpack_codes(blocks, cfg)
    o_eff, p, _ = window.precision(code, b, o, cfg)
    assert set(o.tolist()) == set(range(window.OFFSETS)), f"offset fields: {set(o.tolist())}"
    # The offset a block can least afford: o = 3 with every value of code 0.
    worst = window.precision(np.zeros((1, cfg.n), np.uint8), np.zeros(1, int),
                             np.full(1, window.OFFSETS - 1), cfg)[0]
    if worst[0] != window.OFFSETS - 1:
        assert (o_eff != o).any(), "no foreign block names an offset its codes do not allow"
    assert {0, cfg.fmt.exp_max} <= set(b.tolist()), "base never at its edges"
    assert (p == -1).any() and (p >= 0).any()
