"""The configs the regression runs: the fast subset and the full sweep, for every policy with
hardware (``plane``, ``significance``, ``vlc`` and ``window``)."""

from facet.config import HARDWARE_POLICIES as POLICIES, Config, config_grid

__all__ = ["FAST_CONFIGS", "SWEEP_BITS", "POLICIES", "sweep", "spec_id", "case_id"]

#: (format, N, T, policy) of the fast subset: the reference config bf16/32/8 under every
#: policy and one fp16 config. Each Verilator build is a large share of `make test`'s time;
#: the other formats and block sizes, `vlc` at N = 8 among them, are in the sweep.
FAST_CONFIGS = (
    ("bf16", 32, 8, "plane"),
    ("fp16", 16, 8, "plane"),
    ("bf16", 32, 8, "significance"),
    ("bf16", 32, 8, "vlc"),
    ("bf16", 32, 8, "window"),
)
#: T values of the sweep (every policy x every format x every N).
SWEEP_BITS = (6, 8, 10, 12)


def spec_id(fmt, n, t, policy):
    """Readable pytest id of a (format, N, T, policy) combination, e.g. ``bf16_n32_t8_plane``."""
    return f"{fmt}_n{n}_t{t}_{policy}"


def case_id(cfg: Config):
    """Pytest id of a config: ``spec_id`` of its format, N, T and policy (K is the default)."""
    return spec_id(cfg.format, cfg.block, cfg.bits, cfg.policy)


def sweep():
    """``(valid, rejected)``: valid ``Config`` objects (default K) and ``(id, message)`` pairs
    for the policy x format x N x T combinations that :class:`facet.Config` rejects."""
    valid, rejected = config_grid(POLICIES, SWEEP_BITS)
    return valid, [(spec_id(*key), message) for key, message in rejected]
