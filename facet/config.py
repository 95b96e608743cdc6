"""Compressor configuration: value format, block size, budget, delta planes, policy.

Every derived size of the block layout (docs/format.md, section 2) is computed here once,
and the golden model, the RTL and the tools read it from a :class:`Config`.
"""

from dataclasses import dataclass, field
__all__ = ["Format", "FORMATS", "POLICIES", "HARDWARE_POLICIES", "DEFAULT_K", "Config", "config_grid", "valid_configs"]


@dataclass(frozen=True)
class Format:
    """A binary floating-point format with a sign bit, ``exp_bits`` and ``man_bits``."""

    name: str
    exp_bits: int
    man_bits: int

    @property
    def width(self):
        return 1 + self.exp_bits + self.man_bits

    @property
    def bias(self):
        return (1 << (self.exp_bits - 1)) - 1

    @property
    def exp_max(self):
        """The all-ones exponent field of Inf and NaN."""
        return (1 << self.exp_bits) - 1

    @property
    def dtype(self):
        """NumPy dtype of a raw bit pattern of this format."""
        return "uint16" if self.width == 16 else "uint32"


FORMATS = {
    "bf16": Format("bf16", 8, 7),
    "fp16": Format("fp16", 5, 10),
    "fp32": Format("fp32", 8, 23),
}

BLOCK_SIZES = (8, 16, 32, 64)
POLICIES = ("plane", "significance", "vlc", "window")
#: Policies without exponent-delta planes: K is None.
NO_K_POLICIES = ("vlc", "window")
#: Policies that have RTL (facet.rtl).
HARDWARE_POLICIES = ("plane", "significance", "vlc", "window")

#: Preferred number of delta planes, measured on MiniLM activations (docs/format.md, section 9).
DEFAULT_K = 3

#: `vlc` header fields (docs/format.md, section 10): the significance depth D and the code mode.
VLC_DEPTH_BITS = 4
VLC_MODE_BITS = 2
#: Window offsets o of the `vlc` code modes 0, 1, 2; mode 3 is offset 0 with special values.
VLC_OFFSETS = (0, 2, 5)
#: `window` header field (docs/format.md, section 11): the window offset o, 0..3.
WINDOW_OFFSET_BITS = 2


def _policy_bits(fmt, k, policy):
    """Width of the header's policy-specific field."""
    if policy == "plane":
        return 0
    if policy == "vlc":
        return VLC_DEPTH_BITS + VLC_MODE_BITS
    if policy == "window":
        return WINDOW_OFFSET_BITS
    # significance: the precision P, 0 <= P <= M + 2**K - 1
    return ((fmt.man_bits + (1 << k)) - 1).bit_length()


def _mask_bits(fmt, k, policy):
    """Planes with a presence bit: all P for `plane`, zero/delta/sign for `significance`."""
    if policy in NO_K_POLICIES:
        return 0
    return k + 2 + (fmt.man_bits if policy == "plane" else 0)


def _rate(bits, n, width):
    """Validate T and return it as an int when it is whole; B = N*T must be whole bytes."""
    if isinstance(bits, bool) or not isinstance(bits, (int, float)):
        raise ValueError(f"bits per value T must be a number, not {bits!r}")
    if not 1 <= bits <= width:
        raise ValueError(f"bits per value T must be in 1..{width}, not {bits!r}")
    budget = bits * n
    if budget != int(budget) or int(budget) % 8:
        raise ValueError(f"bits per value T = {bits!r} at N = {n} gives a budget of {budget:g} bits, "
                         "not a whole number of bytes")
    return int(bits) if float(bits).is_integer() else float(bits)


@dataclass(frozen=True)
class Config:
    """Parameters of one compressor instance.

    Parameters
    ----------
    format : str
        Value format: ``"bf16"``, ``"fp16"`` or ``"fp32"``.
    block : int
        Values per block, N: 8, 16, 32 or 64.
    bits : int or float
        Target bits per value, T. The block budget is ``B = N * T`` bits, which must be a whole
        number of bytes: T = 4.5 is valid at N = 32 (B = 144), not at N = 8.
    k : int or None
        Number of exponent-delta bit-planes, K (``1 <= K <= E``), for `plane` and
        `significance`. ``None`` picks ``min(DEFAULT_K, largest K that fits)`` (3). `vlc` and
        `window` have no delta planes and take only ``None``.
    policy : str
        ``"plane"``, ``"significance"``, ``"vlc"`` or ``"window"`` (docs/format.md).

    Raises
    ------
    ValueError
        If a parameter is out of range, or if the header plus the zero, delta, sign and
        first mantissa planes do not fit in the budget.
    """

    format: str = "bf16"
    block: int = 32
    bits: int | float = 8
    k: int | None = None
    policy: str = "plane"
    fmt: Format = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not isinstance(self.format, str) or self.format not in FORMATS:
            raise ValueError(f"format must be one of {sorted(FORMATS)}, not {self.format!r}")
        fmt = FORMATS[self.format]
        object.__setattr__(self, "fmt", fmt)
        if not isinstance(self.block, int) or self.block not in BLOCK_SIZES:
            raise ValueError(f"block size N must be one of {BLOCK_SIZES}, not {self.block!r}")
        object.__setattr__(self, "bits", _rate(self.bits, self.block, fmt.width))
        if not isinstance(self.policy, str) or self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}, not {self.policy!r}")
        if self.policy in NO_K_POLICIES:
            if self.k is not None:
                raise ValueError(f"policy {self.policy} has no delta planes; K must be None, "
                                 f"not {self.k!r}")
            if not self._fits(None):
                raise ValueError(self._fit_message(None))
            return
        if self.k is None:
            fitting = [k for k in range(1, fmt.exp_bits + 1) if self._fits(k)]
            if not fitting:
                raise ValueError(self._fit_message(1) + "; no K fits, raise T")
            object.__setattr__(self, "k", min(DEFAULT_K, max(fitting)))
        elif isinstance(self.k, bool) or not isinstance(self.k, int) or not 1 <= self.k <= fmt.exp_bits:
            raise ValueError(f"delta planes K must be an integer in 1..{fmt.exp_bits} for "
                             f"{self.format}, not {self.k!r}")
        elif not self._fits(self.k):
            fitting = [k for k in range(1, fmt.exp_bits + 1) if self._fits(k)]
            hint = f"the largest K that fits is {max(fitting)}" if fitting else "no K fits, raise T"
            raise ValueError(f"{self._fit_message(self.k)}; {hint}")

    # -- the fit rule -----------------------------------------------------------------------

    def _header_bits(self, k):
        fmt = self.fmt
        return fmt.exp_bits + _mask_bits(fmt, k, self.policy) + _policy_bits(fmt, k, self.policy)

    def _fixed_bits(self, k):
        if self.policy in NO_K_POLICIES:
            # vlc: header + the worst block at depth 0, 3 bits a value (docs/format.md,
            # section 10); window: header + two code planes and the sign plane (section 11)
            return self._header_bits(k) + 3 * self.block
        # header + zero plane + K delta planes + sign plane + first mantissa plane
        return self._header_bits(k) + self.block * (k + 3)

    def _fits(self, k):
        return self._fixed_bits(k) <= self.block * self.bits

    def _fit_message(self, k):
        if self.policy in NO_K_POLICIES:
            return (f"config {self.format} N={self.block} T={self.bits:g} {self.policy} does not "
                    f"fit: header ({self._header_bits(k)} bits) + 3 bits a value ({3 * self.block} bits) = "
                    f"{self._fixed_bits(k)} bits exceeds the budget B = N*T = {self.budget} bits")
        return (f"config {self.format} N={self.block} T={self.bits:g} K={k} does not fit: header "
                f"({self._header_bits(k)} bits) + zero, {k} delta, sign and first mantissa planes "
                f"({k + 3} x {self.block} bits) = {self._fixed_bits(k)} bits exceeds the budget "
                f"B = N*T = {self.budget} bits")

    # -- derived layout ---------------------------------------------------------------------

    @property
    def n(self):
        return self.block

    @property
    def budget(self):
        """B, the fixed size of a compressed block in bits."""
        return int(self.block * self.bits)

    @property
    def budget_bytes(self):
        return self.budget // 8

    @property
    def num_planes(self):
        """P = 1 zero + K delta + 1 sign + M mantissa planes (`plane` and `significance`)."""
        return self.k + self.fmt.man_bits + 2

    @property
    def policy_bits(self):
        return _policy_bits(self.fmt, self.k, self.policy)

    @property
    def mask_bits(self):
        """Width of the presence mask: P for `plane`, K + 2 for `significance`."""
        return _mask_bits(self.fmt, self.k, self.policy)

    @property
    def header_bits(self):
        """H = E (base) + presence mask + policy field."""
        return self._header_bits(self.k)

    @property
    def max_precision(self):
        """Largest precision P of the significance policy: every value keeps M bits."""
        return self.fmt.man_bits + (1 << self.k) - 1

    @property
    def min_precision(self):
        """Smallest precision P the significance policy can choose for any block."""
        spare = self.budget - self.header_bits - self.block * (self.k + 2)
        return min(self.max_precision, spare // self.block)

    @property
    def sign_plane(self):
        """Index of the sign plane in stream order."""
        return self.k + 1

    @property
    def first_mantissa_plane(self):
        return self.k + 2

    @property
    def slots(self):
        """Number of N-bit plane slots after the header, the last one possibly partial."""
        return -(-(self.budget - self.header_bits) // self.block)

    @property
    def full_slots(self):
        """Slots that fit completely in B (``s_full`` in the spec)."""
        return (self.budget - self.header_bits) // self.block

    @property
    def partial_elems(self):
        """Elements of slot ``full_slots`` that survive the cut (``r`` in the spec)."""
        return (self.budget - self.header_bits) % self.block

    @property
    def min_mantissa_bits(self):
        """Leading mantissa bits every value keeps, whatever the block holds."""
        return min(self.full_slots - self.k - 2, self.fmt.man_bits)

    @property
    def max_depth(self):
        """Largest significance depth D of the vlc policy: values further below the block
        maximum are flushed to zero."""
        return (1 << VLC_DEPTH_BITS) - 1

    @property
    def name(self):
        if self.policy in NO_K_POLICIES:
            return f"{self.format}_n{self.block}_t{self.bits:g}_{self.policy}"
        return f"{self.format}_n{self.block}_t{self.bits:g}_k{self.k}_{self.policy}"

    def to_dict(self):
        if self.policy == "vlc":
            fmt = self.fmt
            return {"format": self.format, "exp_bits": fmt.exp_bits, "man_bits": fmt.man_bits,
                    "block": self.block, "bits": self.bits, "k": None, "policy": self.policy,
                    "budget_bits": self.budget, "header_bits": self.header_bits,
                    "max_depth": self.max_depth, "offsets": list(VLC_OFFSETS)}
        if self.policy == "window":
            fmt = self.fmt
            return {"format": self.format, "exp_bits": fmt.exp_bits, "man_bits": fmt.man_bits,
                    "block": self.block, "bits": self.bits, "k": None, "policy": self.policy,
                    "budget_bits": self.budget, "header_bits": self.header_bits}
        return {
            "format": self.format, "exp_bits": self.fmt.exp_bits, "man_bits": self.fmt.man_bits,
            "block": self.block, "bits": self.bits, "k": self.k, "policy": self.policy,
            "budget_bits": self.budget, "header_bits": self.header_bits,
            "policy_bits": self.policy_bits, "mask_bits": self.mask_bits, "num_planes": self.num_planes,
            "full_slots": self.full_slots, "partial_elems": self.partial_elems,
            **({"min_mantissa_bits": self.min_mantissa_bits} if self.policy == "plane" else
               {"min_precision": self.min_precision, "max_precision": self.max_precision}),
        }


def config_grid(policies=POLICIES, bits=(8,), formats=tuple(FORMATS), blocks=BLOCK_SIZES):
    """``(valid, rejected)`` over policies x formats x N x T at the default K: the
    :class:`Config` objects that validate, and ``((format, N, T, policy), message)`` pairs for
    the rest."""
    valid, rejected = [], []
    for policy in policies:
        for fmt in formats:
            for n in blocks:
                for t in bits:
                    try:
                        valid.append(Config(fmt, n, t, policy=policy))
                    except ValueError as exc:
                        rejected.append(((fmt, n, t, policy), str(exc)))
    return valid, rejected


def valid_configs(policies=POLICIES, bits=(8,), formats=tuple(FORMATS), blocks=BLOCK_SIZES):
    """Every :class:`Config` over policies x formats x N x T that validates (default K)."""
    return config_grid(policies, bits, formats, blocks)[0]
