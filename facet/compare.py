"""Error of a hardware codec on activation tensors, exactly as its RTL computes it.

The input is rounded to the codec's value format, encoded, decoded and rounded back to that
format, the way the encoder and decoder RTL see it (facet: :mod:`facet.model`; MX baselines:
:func:`facet.baselines.mx_pack` and :func:`~facet.baselines.mx_unpack` around the format
rounding of :func:`facet.model.to_bits`). The metrics are :func:`facet.eval.metrics`, against
the float32 input, per tensor class and over all tensors. ``make synth`` puts them beside the
gate counts.
"""

import numpy as np

from . import model
from .baselines import mx_pack, mx_unpack
from .config import Config
from .eval import metrics, tensor_class
from .rtl.mx import MxConfig

__all__ = ["roundtrip", "codec_errors"]

#: The row of :func:`codec_errors` over every tensor.
OVERALL = "all"


def _host(cfg):
    """A facet config with the format and N of an MX config, for model.to_bits."""
    return Config(cfg.format, cfg.n, 16)


def roundtrip(x, cfg):
    """What the encoder and decoder of ``cfg`` return for 1-D float32 ``x``, as float32.

    ``x`` is padded with zeros to a whole number of blocks, which are cut off again.
    """
    xp = np.pad(np.asarray(x, np.float32), (0, (-len(x)) % cfg.n))
    if isinstance(cfg, MxConfig):
        raw = model.to_bits(xp, _host(cfg))
        with np.errstate(invalid="ignore", over="ignore"):
            packed = mx_pack(model.to_float(raw, cfg.format), cfg.codec, cfg.n)
            out = model.to_bits(mx_unpack(packed, cfg.codec).reshape(-1), _host(cfg))
    else:
        out = model.decode(model.encode(xp, cfg), cfg)
    return model.to_float(out, cfg.format).reshape(-1)[:len(x)]


def codec_errors(tensors, cfg, metric="rel_l2"):
    """``{class: metric, ..., "all": metric}`` of ``cfg`` on ``{name: array}``.

    Each tensor is flattened and coded on its own, as :func:`facet.eval.evaluate` does; the
    error is pooled over the tensors of a class (:func:`facet.eval.tensor_class`) and over all.
    """
    xs, ys = {}, {}
    for name, t in tensors.items():
        x = np.asarray(t, np.float32).reshape(-1)
        xs.setdefault(tensor_class(name), []).append(x)
        ys.setdefault(tensor_class(name), []).append(roundtrip(x, cfg))
    out = {c: metrics(np.concatenate(xs[c]), np.concatenate(ys[c]), cfg.n)[metric] for c in sorted(xs)}
    everything = [np.concatenate(sum(d.values(), [])) for d in (xs, ys)]
    out[OVERALL] = metrics(*everything, cfg.n)[metric]
    return out
