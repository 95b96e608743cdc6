"""What the stage components share: the :class:`Stage` base, parameter checks and
bit-twiddling."""

from amaranth.hdl import Cat, Const, Signal, Value
from amaranth.lib import wiring

from facet.config import HARDWARE_POLICIES, Config

__all__ = ["Stage", "drive", "check_config", "check_stages", "any_bits", "equals_const",
           "decrement", "thermometer"]


def check_config(cfg, policy=None):
    """Return ``cfg`` if it is a :class:`facet.config.Config` the RTL can build.

    ``policy`` names the policy (or a tuple of the policies) a stage belongs to: its stages
    can be built (and tested) before the policy's codecs are, so before it joins
    ``HARDWARE_POLICIES``.

    A :class:`~facet.config.Config` validates itself when it is built, so an invalid
    configuration is rejected there, with the same :exc:`ValueError` message the golden model
    and the command line give.

    Raises
    ------
    TypeError
        If ``cfg`` is not a :class:`~facet.config.Config`.
    """
    if not isinstance(cfg, Config):
        raise TypeError(f"cfg must be a facet.config.Config, not {cfg!r}")
    own = policy if isinstance(policy, tuple) else (policy,)
    if cfg.policy not in HARDWARE_POLICIES and cfg.policy not in own:
        raise ValueError(f"policy {cfg.policy} has no hardware yet; the RTL implements "
                         f"{', '.join(HARDWARE_POLICIES)}")
    return cfg


class Stage(wiring.Component):
    """A component built for one compressor configuration: every stage and both codecs.

    Subclasses give their members in :meth:`ports`; a stage of some policies only names them
    in :attr:`POLICY` (one name, or a tuple).

    Parameters
    ----------
    cfg : :class:`facet.config.Config`
        Compressor configuration.

    Raises
    ------
    TypeError
        If ``cfg`` is not a :class:`~facet.config.Config`.
    ValueError
        If the stage belongs to another policy than ``cfg.policy``.
    """

    #: The policy (or tuple of policies) the stage belongs to; None for every policy.
    POLICY = None

    def __init__(self, cfg):
        try:
            self.check(cfg)
        except (TypeError, ValueError):
            # Not built: amaranth must not also warn that it was created but never used.
            self._MustUse__silence = True
            raise
        self._cfg = cfg
        super().__init__(self.ports(cfg))

    @property
    def cfg(self):
        """The :class:`~facet.config.Config` the component was built for."""
        return self._cfg

    def check(self, cfg):
        """Raise :exc:`ValueError` (or :exc:`TypeError`) if the component cannot be built;
        an override checks ``super().check(cfg)`` first."""
        check_config(cfg, self.POLICY)
        own = self.POLICY if isinstance(self.POLICY, tuple) else (self.POLICY,)
        if self.POLICY is not None and cfg.policy not in own:
            raise ValueError(f"this stage belongs to the {' and '.join(own)} "
                             f"polic{'ies' if len(own) > 1 else 'y'}, not {cfg.policy!r}")

    def ports(self, cfg):
        """The signature members (``{name: In(...) | Out(...)}``) for ``cfg``."""
        raise NotImplementedError


def drive(m, component, **values):
    """Drive the input members of a submodule ``component`` of ``m``: ``member=value``."""
    m.d.comb += [getattr(component, name).eq(value) for name, value in values.items()]


def check_stages(stages, cuts):
    """Return ``stages`` if it is an integer in ``0 .. len(cuts)`` (the register positions).

    Raises
    ------
    TypeError
        If ``stages`` is not an integer.
    ValueError
        If ``stages`` is out of range.
    """
    if not isinstance(stages, int) or isinstance(stages, bool):
        raise TypeError(f"stages must be an integer, not {stages!r}")
    if not 0 <= stages <= len(cuts):
        raise ValueError(f"stages must be an integer in 0..{len(cuts)}, not {stages!r}")
    return stages


def any_bits(value):
    """OR of the bits of ``value``; a zero-width value gives ``0``."""
    value = Value.cast(value)
    return value.any() if len(value) else Const(0, 1)


# Amaranth's RTLIL backend trims operands whose upper bits are constant zeros to their
# minimal width, which Verilator reports as WIDTHEXPAND in the generated Verilog. The two
# helpers below express comparisons and decrements against constants as bit logic; the logic
# is the same.

def equals_const(value, constant):
    """``value == constant``, as an AND of (possibly inverted) bits."""
    value = Value.cast(value)
    if constant >> len(value):
        return Const(0, 1)
    if not len(value):
        return Const(1, 1)
    return Cat(value[b] if (constant >> b) & 1 else ~value[b] for b in range(len(value))).all()


def decrement(value):
    """``(value - 1) mod 2**len(value)``: bit ``b`` flips when all bits below it are zero."""
    value = Value.cast(value)
    return Cat(value[b] ^ ~any_bits(value[:b]) for b in range(len(value)))



def thermometer(m, value, count, *, name="therm"):
    """``[value > k for k in range(count)]``, e.g. "element k is among the first ``value``",
    as signals of ``m``; a constant 0 where ``value`` is too narrow to exceed ``k`` (Verilator
    flags such a compare as constant)."""
    value = Value.cast(value)
    out = []
    for k in range(count):
        if k >= (1 << len(value)) - 1:
            out.append(Const(0, 1))
            continue
        s = Signal(name=f"{name}{k}")
        m.d.comb += s.eq(value > k)
        out.append(s)
    return out
