"""Bit-exact golden model of the block format in docs/format.md.

One function per hardware stage, each vectorized over blocks:

encoder   ``fields -> base -> deltas -> planes -> mask -> pack``
decoder   ``header -> unpack -> reconstruct``

The ``significance`` policy adds ``precision -> widths -> pack_mantissa`` to the encoder and
``precision_field -> widths -> unpack_mantissa`` to the decoder. :func:`encoder_stages` runs
the encoder chain once and returns every intermediate result; :func:`from_planes` is the
inverse of :func:`planes`.

The RTL in ``facet.rtl`` has a component or function with the same name for each stage, and
its unit test compares the two. Arrays of per-value quantities have shape ``(blocks, N)``;
plane words have shape ``(blocks, P)`` and hold one N-bit plane each, element ``i`` at bit ``i``,
planes in stream order.

The stages live in ``convert`` (input conversion), ``encoder``, ``significance`` and
``decoder``; ``transpose`` holds the bit-matrix transposes they share. This module chains them.
"""

from typing import NamedTuple

import numpy as np

from ..config import NO_K_POLICIES, Config
from .convert import _check, to_bits, to_float
from .decoder import header, reconstruct, unpack
from .encoder import base, deltas, fields, from_planes, mask, pack, planes
from .significance import pack_mantissa, precision, precision_field, unpack_mantissa, widths
# facet.vlc and the transpose test use these directly.
from .transpose import _code_dtype, _codes_to_words, _words_to_codes  # noqa: F401

__all__ = [
    "to_bits", "to_float", "fields", "base", "deltas", "planes", "from_planes", "mask", "pack",
    "header", "unpack", "reconstruct", "encode", "decode", "lossless_bits", "canonical",
    "precision", "widths", "pack_mantissa", "precision_field", "unpack_mantissa",
    "EncoderStages", "encoder_stages",
]

#: The encoder stages in order; ``encoder_stages(..., upto=name)`` stops after one of them.
ENCODER_STAGES = ("fields", "base", "deltas", "planes", "mask", "precision", "widths")


class EncoderStages(NamedTuple):
    """The intermediate results of the encoder, named after what they hold; the stage that
    produces each is given in brackets. Results past the ``upto`` stage are ``None``."""

    raw: np.ndarray               #: (blocks, N) raw bit patterns [to_bits]
    sign: np.ndarray              #: [fields]
    exp: np.ndarray               #: biased exponent fields [fields]
    man_in: np.ndarray            #: mantissa fields as they came in [fields]
    base: np.ndarray = None       #: (blocks,) [base]
    delta: np.ndarray = None      #: [deltas]
    zero: np.ndarray = None       #: zero marks [deltas]
    man: np.ndarray = None        #: mantissas after the flush and NaN rules [deltas]
    words: np.ndarray = None      #: (blocks, P) plane words in stream order [planes]
    present: np.ndarray = None    #: (blocks, P) presence of every plane [mask]
    precision: np.ndarray = None  #: (blocks,) P, ``significance`` only [precision]
    widths: np.ndarray = None     #: (blocks, N) mantissa widths, ``significance`` only [widths]


def encoder_stages(values, cfg: Config, upto="widths"):
    """Run the encoder chain up to stage ``upto`` (see :data:`ENCODER_STAGES`).

    ``values`` is anything :func:`to_bits` takes. ``precision`` and ``widths`` see the presence
    of the first ``mask_bits`` planes only, as the ``significance`` header holds; under the
    ``plane`` policy they stay ``None``. The ``vlc`` and ``window`` policies have stages of
    their own (:mod:`facet.vlc`, :mod:`facet.window`) and are rejected.
    """
    if _check(cfg).policy in NO_K_POLICIES:
        raise ValueError(f"the {cfg.policy} policy has its own stages: see facet.{cfg.policy}")
    if upto not in ENCODER_STAGES:
        raise ValueError(f"upto must be one of {', '.join(ENCODER_STAGES)}, not {upto!r}")
    last = ENCODER_STAGES.index(upto)
    raw = to_bits(values, cfg)
    s = EncoderStages(raw, *fields(raw, cfg))
    if last >= 1:
        s = s._replace(base=base(s.exp, cfg))
    if last >= 2:
        delta, zero, man = deltas(s.exp, s.man_in, s.base, cfg)
        s = s._replace(delta=delta, zero=zero, man=man)
    if last >= 3:
        s = s._replace(words=planes(s.sign, s.delta, s.zero, s.man, cfg))
    if last >= 4:
        s = s._replace(present=mask(s.words))
    if last >= 5 and cfg.policy == "significance":
        present = s.present[:, :cfg.mask_bits]
        s = s._replace(precision=precision(s.delta, s.zero, present, cfg))
        if last >= 6:
            s = s._replace(widths=widths(s.precision, s.delta, s.zero, present, cfg))
    return s


def _own_model(cfg):
    """The module of a policy with stages of its own."""
    from .. import vlc, window
    return {"vlc": vlc, "window": window}[cfg.policy]


def lossless_bits(values, cfg: Config):
    """Each block's untruncated size in bits.

    ``plane``: header plus N bits per present plane. ``significance``: header, N bits per
    present zero/delta/sign plane, and M bits per value that is not zero-marked. ``vlc``,
    ``window``: see :func:`facet.vlc.lossless_bits`, :func:`facet.window.lossless_bits`.
    """
    if _check(cfg).policy in NO_K_POLICIES:
        return _own_model(cfg).lossless_bits(values, cfg)
    s = encoder_stages(values, cfg, upto="mask")
    if cfg.policy == "plane":
        return cfg.header_bits + cfg.n * s.present.sum(axis=1)
    nm = cfg.mask_bits
    return cfg.header_bits + cfg.n * s.present[:, :nm].sum(axis=1) + cfg.fmt.man_bits * (~s.zero).sum(axis=1)


#: Values a batch of :func:`encode` and :func:`decode` holds. The stages are vectorized over
#: the blocks of a batch; on a whole tensor at once their temporaries would be many
#: megabytes each, fresh memory the kernel maps page by page, and all policies but `vlc`
#: run markedly slower that way.
BATCH_VALUES = 1 << 16


def _in_batches(f, blocks, cfg):
    """``f`` applied to batches of :data:`BATCH_VALUES` values of ``blocks`` (blocks, ...),
    the results joined."""
    per = max(1, BATCH_VALUES // cfg.n)
    if len(blocks) <= per:
        return f(blocks)
    return np.concatenate([f(blocks[i:i + per]) for i in range(0, len(blocks), per)])


def encode(values, cfg: Config):
    """Compress ``values`` into ``(blocks, B/8)`` uint8 packed blocks."""
    return _in_batches(lambda raw: _encode(raw, cfg), to_bits(values, cfg), cfg)


def _encode(raw, cfg):
    if cfg.policy in NO_K_POLICIES:
        return _own_model(cfg).encode(raw, cfg)
    s = encoder_stages(raw, cfg)
    if cfg.policy == "plane":
        return pack(s.base, s.present, s.words, cfg)
    nm = cfg.mask_bits
    head = pack(s.base, s.present[:, :nm], s.words[:, :nm], cfg, policy_field=s.precision)
    return head | pack_mantissa(s.man, s.widths, cfg)


def decode(blocks, cfg: Config):
    """Decompress packed blocks into raw bit patterns, shape ``(blocks * N,)``.

    ``blocks`` is a ``(blocks, B/8)`` uint8 array, or anything of whole B/8-byte blocks.
    Every byte string decodes to defined values.
    """
    _check(cfg)
    blocks = np.asarray(blocks)
    if blocks.dtype != np.uint8:
        raise ValueError(f"packed blocks must be uint8, not {blocks.dtype}")
    if blocks.size % cfg.budget_bytes:
        raise ValueError(f"{blocks.size} bytes are not a whole number of {cfg.budget_bytes}-byte blocks")
    return _in_batches(lambda b: _decode(b, cfg), blocks.reshape(-1, cfg.budget_bytes), cfg)


def _decode(blocks, cfg):
    if cfg.policy in NO_K_POLICIES:
        return _own_model(cfg).decode(blocks, cfg)
    b, present = header(blocks, cfg)
    words, fill = unpack(blocks, present, cfg)
    if cfg.policy == "significance":
        _, delta, zero, _ = from_planes(words, cfg)
        widths_ = widths(precision_field(blocks, cfg), delta, zero, present, cfg)
        man, fill = unpack_mantissa(blocks, widths_, present, cfg)
        mwords = _codes_to_words(man, cfg.fmt.man_bits, cfg.n)[:, ::-1]
        words = np.concatenate([words, mwords.astype(words.dtype)], axis=1)
    return reconstruct(b, words, fill, cfg).reshape(-1)


def canonical(values, cfg: Config):
    """What a lossless round trip returns: the input after the flush and NaN rules."""
    if _check(cfg).policy in NO_K_POLICIES:
        return _own_model(cfg).canonical(values, cfg)
    s = encoder_stages(values, cfg, upto="deltas")
    fmt = cfg.fmt
    mag = np.where(s.zero, 0, (s.exp.astype(np.uint32) << fmt.man_bits) | s.man)
    return ((s.sign.astype(np.uint32) << (fmt.width - 1)) | mag).astype(fmt.dtype).reshape(-1)
