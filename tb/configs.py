"""The configs the regression runs: the fast subset and the full sweep."""

from facet.config import BLOCK_SIZES, FORMATS, Config

__all__ = ["FAST_CONFIGS", "SWEEP_BITS", "sweep"]

#: (format, N, T) of the fast subset: the reference config and one fp16 config.
FAST_CONFIGS = (("bf16", 32, 8), ("fp16", 16, 8))
#: T values of the sweep (every format x every N).
SWEEP_BITS = (6, 8, 10, 12)


def sweep():
    """``(valid, rejected)``: valid ``Config`` objects (default K) and ``(id, message)`` pairs
    for the format x N x T combinations that :class:`facet.Config` rejects."""
    valid, rejected = [], []
    for fmt in FORMATS:
        for n in BLOCK_SIZES:
            for t in SWEEP_BITS:
                try:
                    valid.append(Config(fmt, n, t))
                except ValueError as exc:
                    rejected.append((f"{fmt}_n{n}_t{t}", str(exc)))
    return valid, rejected
