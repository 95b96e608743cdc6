"""Each combinational stage of facet.rtl against the golden-model function of the same name.

Random and corner-case blocks (tb.stimulus) go through the model stage by stage; every
stage component gets the model's inputs of its stage and must give the model's outputs, bit
for bit. The seed of every case is printed; rerun one with FACET_SEED=<seed>.
"""

import gc
import warnings

import numpy as np
import pytest
from amaranth.hdl import UnusedElaboratable

from facet import model
from facet.config import Config
from facet.rtl import Base, Deltas, Fields, Header, Mask, Pack, Planes, Reconstruct, Unpack
from facet.rtl.pack import slot_widths
from tb import stimulus
from tb.combinational import check_stage, mask_int
from tb.ports import array_to_int, int_to_array
from tb.blocks import seed_for

CONFIGS = [
    Config("bf16", 32, 8, 4), Config("bf16", 32, 8), Config("bf16", 16, 8), Config("fp16", 32, 8),
    Config("fp32", 16, 8), Config("bf16", 8, 8), Config("fp16", 8, 16), Config("bf16", 64, 16),
    Config("bf16", 32, 16, 8),
]
IDS = [c.name for c in CONFIGS]


def _stimulus(cfg, name, nb=4):
    rng = np.random.default_rng(seed_for(name + cfg.name))
    raw = stimulus.encoder_values(cfg, 8 * nb, rng, minilm=False)[0]
    return raw, rng


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_encoder_stages(cfg):
    raw, _ = _stimulus(cfg, "encoder")
    s = model.encoder_stages(raw, cfg)
    packed = model.pack(s.base, s.present, s.words, cfg)
    e, mb, k, n, w = cfg.fmt.exp_bits, cfg.fmt.man_bits, cfg.k, cfg.n, cfg.fmt.width
    nb = raw.shape[0]

    check_stage(Fields(cfg), lambda b: {"i": array_to_int(s.raw[b], w)},
           lambda b: {"sign": array_to_int(s.sign[b], 1), "exp": array_to_int(s.exp[b], e),
                      "man": array_to_int(s.man_in[b], mb)}, nb)
    check_stage(Base(cfg), lambda b: {"exp": array_to_int(s.exp[b], e)},
           lambda b: {"base": int(s.base[b])}, nb)
    check_stage(Deltas(cfg),
           lambda b: {"exp": array_to_int(s.exp[b], e), "man": array_to_int(s.man_in[b], mb),
                      "base": int(s.base[b])},
           lambda b: {"delta": array_to_int(s.delta[b], k), "zero": array_to_int(s.zero[b], 1),
                      "man_out": array_to_int(s.man[b], mb)}, nb)
    check_stage(Planes(cfg),
           lambda b: {"sign": array_to_int(s.sign[b], 1), "delta": array_to_int(s.delta[b], k),
                      "zero": array_to_int(s.zero[b], 1), "man": array_to_int(s.man[b], mb)},
           lambda b: {"words": array_to_int(s.words[b], n)}, nb)
    check_stage(Mask(cfg), lambda b: {"words": array_to_int(s.words[b], n)},
           lambda b: {"present": mask_int(s.present[b])}, nb)
    check_stage(Pack(cfg),
           lambda b: {"base": int(s.base[b]), "present": mask_int(s.present[b]),
                      "words": array_to_int(s.words[b], n)},
           lambda b: {"o": array_to_int(packed[b], 8)}, nb)


def _decoder_cases(cfg):
    """Random bytes, and encoded blocks (the blocks an encoder produces)."""
    raw, rng = _stimulus(cfg, "decoder")
    packed = np.concatenate([stimulus.random_blocks(cfg, 24, rng)[0], model.encode(raw, cfg)])
    # Random bytes rarely mark every plane present or leave the header nearly empty.
    packed[0, :] = 0xFF
    packed[1, :] = 0
    return packed


def _slots(row, cfg):
    """The plane slots of a packed block, as :class:`Unpack` takes them."""
    return (array_to_int(row, 8) >> cfg.header_bits) & ((1 << sum(slot_widths(cfg)[:cfg.mask_bits])) - 1)


@pytest.mark.parametrize("cfg", CONFIGS, ids=IDS)
def test_decoder_stages(cfg):
    packed = _decoder_cases(cfg)
    b_, present = model.header(packed, cfg)
    words, fill = model.unpack(packed, present, cfg)
    values = model.reconstruct(b_, words, fill, cfg)
    mb, n, w = cfg.fmt.man_bits, cfg.n, cfg.fmt.width
    nb = packed.shape[0]

    check_stage(Header(cfg), lambda b: {"i": array_to_int(packed[b], 8)},
           lambda b: {"base": int(b_[b]), "present": mask_int(present[b])}, nb)
    check_stage(Unpack(cfg),
           lambda b: {"i": _slots(packed[b], cfg), "present": mask_int(present[b])},
           lambda b: {"words": array_to_int(words[b], n), "fill": array_to_int(fill[b], mb)}, nb)
    check_stage(Reconstruct(cfg),
           lambda b: {"base": int(b_[b]), "words": array_to_int(words[b], n),
                      "fill": array_to_int(fill[b], mb)},
           lambda b: {"o": array_to_int(values[b], w)}, nb)


@pytest.mark.parametrize("cfg", [Config("bf16", 32, 8, policy="significance"),
                                 Config("fp32", 16, 8, policy="significance")],
                         ids=lambda c: c.name)
def test_header_pack_unpack_significance(cfg):
    """Header, Pack and Unpack handle the significance policy's header as the model does:
    presence bits for the zero, delta and sign planes only, and the policy field."""
    raw, rng = _stimulus(cfg, "significance")
    s = model.encoder_stages(raw, cfg, upto="precision")
    nm, n, mb = cfg.mask_bits, cfg.n, cfg.fmt.man_bits
    present, words, prec = s.present[:, :nm], s.words[:, :nm], s.precision
    packed = model.pack(s.base, present, words, cfg, policy_field=prec)
    nb = raw.shape[0]
    check_stage(Pack(cfg),
           lambda b: {"base": int(s.base[b]), "present": mask_int(present[b]),
                      "words": array_to_int(words[b], n), "policy": int(prec[b])},
           lambda b: {"o": array_to_int(packed[b], 8)}, nb)
    blocks = np.concatenate([model.encode(raw, cfg), stimulus.random_blocks(cfg, 16, rng)[0]])
    b_, hpresent = model.header(blocks, cfg)
    uwords, fill = model.unpack(blocks, hpresent, cfg)
    check_stage(Header(cfg), lambda b: {"i": array_to_int(blocks[b], 8)},
           lambda b: {"base": int(b_[b]), "present": mask_int(hpresent[b])}, len(blocks))
    check_stage(Unpack(cfg),
           lambda b: {"i": _slots(blocks[b], cfg), "present": mask_int(hpresent[b])},
           lambda b: {"words": array_to_int(uwords[b], n), "fill": array_to_int(fill[b], mb)},
           len(blocks))


def test_ports_round_trip():
    cfg = Config()
    rng = np.random.default_rng(0)
    raw = stimulus.uniform_bits(cfg, 1, rng)[0]
    assert np.array_equal(int_to_array(array_to_int(raw, 16), 16, cfg.n, np.uint16), raw)


@pytest.mark.parametrize("cls", [Fields, Base, Deltas, Planes, Mask, Pack, Header, Unpack,
                                 Reconstruct])
def test_stage_rejects_non_config(cls):
    # The half-built component would warn "created but never used" when collected.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)
        with pytest.raises(TypeError, match="facet.config.Config"):
            cls({"format": "bf16"})
        gc.collect()
