"""Register stages with :mod:`amaranth.lib.stream` handshaking for a linear pipeline, and the
base of the two stream components built on it."""

from amaranth.hdl import Module, Signal, Value
from amaranth.lib import data

from ._common import Stage, check_stages

__all__ = ["Pipeline", "Codec"]


class Pipeline:
    """Valid/ready bookkeeping for the register stages of a one-block-per-cycle pipeline.

    Each :meth:`register` call inserts one stage: a ``valid`` flop with a synchronous reset
    and reset-less data flops, all loaded when the stage can accept,
    ``accept = ~valid | ready_downstream``. The upstream ``ready`` is that ``accept``. So:

    * one block per clock at full throughput (a stage that is emptied is refilled in the same
      cycle);
    * ``valid`` never depends combinationally on ``ready`` (it is a flop, or the input's valid
      when there is no stage); ``ready`` depends combinationally on the downstream ``ready``
      through the ``accept`` chain;
    * a held block stays in its stage, unchanged, until it is taken: no block is lost,
      duplicated or reordered under any backpressure;
    * after reset every stage is empty, so no stale block comes out.

    There are no skid buffers: a stage costs exactly its data flops plus one valid flop.

    Parameters
    ----------
    m : :class:`~amaranth.hdl.Module`
        The module the stages are added to.
    i : stream interface
        The pipeline's input stream (``valid`` is read, ``ready`` is driven).
    domain : str
        Clock domain of the registers.
    """

    def __init__(self, m, i, *, domain="sync"):
        self._m = m
        self._domain = domain
        self._valid = i.valid
        self._ready = i.ready  # the ready signal the next stage (or the output) drives
        self._stages = 0
        self._done = False

    @property
    def valid(self):
        """Whether the current point of the pipeline holds a block."""
        return self._valid

    def register(self, *values):
        """Add a register stage after the current point; returns the registered ``values``.

        ``values`` are :class:`~amaranth.hdl.Value` or :class:`~amaranth.lib.data.View`; the
        results have the same shapes (views stay views).
        """
        if self._done:
            raise RuntimeError("the pipeline output is already connected")
        m, dom, n = self._m, self._domain, self._stages
        valid = Signal(name=f"stage{n}_valid")
        ready = Signal(name=f"stage{n}_ready")
        accept = Signal(name=f"stage{n}_accept")
        m.d.comb += [
            accept.eq(~valid | ready),
            self._ready.eq(accept),
        ]
        with m.If(accept):
            m.d[dom] += valid.eq(self._valid)
        regs = []
        with m.If(accept & self._valid):
            for j, v in enumerate(values):
                shape = v.shape() if isinstance(v, data.View) else Value.cast(v).shape()
                r = Signal(shape, name=f"stage{n}_d{j}", reset_less=True)
                m.d[dom] += r.eq(v)
                regs.append(r)
        self._valid, self._ready = valid, ready
        self._stages += 1
        return regs

    def cut(self, cuts, name, live):
        """Register the values of the dict ``live`` (updated in place) if ``name`` is one of
        the register positions ``cuts`` in use: how the policy datapaths carry the values
        later stages read across a cut."""
        if name in cuts:
            live.update(zip(list(live), self.register(*live.values())))

    def connect(self, o):
        """Drive the output stream's ``valid`` and the last stage's ``ready`` from ``o``.

        The caller drives ``o.payload`` from the values after the last stage.
        """
        self._m.d.comb += [
            o.valid.eq(self._valid),
            self._ready.eq(o.ready),
        ]
        self._done = True


class Codec(Stage):
    """A stream component ``i -> o`` of the codec, with ``stages`` register stages.

    The registers go at the positions of :attr:`CUTS` (per policy: :attr:`POLICY_CUTS`), the
    first ``stages`` of them unless :attr:`POLICY_STAGE_CUTS` names others for that count,
    and the handshake is the one of :class:`Pipeline`. Subclasses build the datapath in
    :meth:`build`, or in the function :attr:`POLICY_BUILD` names for the policy.

    Parameters
    ----------
    cfg : :class:`facet.config.Config`
        Compressor configuration.
    stages : int
        Register stages, 0 to ``len(CUTS)``.

    Raises
    ------
    TypeError
        If ``cfg`` is not a :class:`~facet.config.Config` or ``stages`` not an integer.
    ValueError
        If ``stages`` is out of range.
    """

    #: Register positions, in the order ``stages`` takes them.
    CUTS = ()
    #: Register positions of the policies whose datapath has stages of its own, by policy;
    #: a component built for one of them has those as its :attr:`CUTS`.
    POLICY_CUTS = {}
    #: Register positions by stage count, ``{policy: {stages: positions}}``, where the first
    #: ``stages`` of :attr:`CUTS` are not the best set: the best pair of positions need not
    #: hold the best single one.
    POLICY_STAGE_CUTS = {}
    #: The datapaths of the policies that have stages of their own, by policy:
    #: ``build(m, pipe, cuts, cfg, payload)`` takes the place of :meth:`build`.
    POLICY_BUILD = {}

    def __init__(self, cfg, stages=1):
        #: Register stages, which is also the latency in cycles from a block accepted on
        #: ``i`` to its result valid on ``o``.
        self.stages = self.latency = stages
        super().__init__(cfg)

    def check(self, cfg):
        super().check(cfg)
        self.CUTS = self.POLICY_CUTS.get(cfg.policy, type(self).CUTS)
        check_stages(self.stages, self.CUTS)
        #: The register positions in use.
        self.cuts = self.POLICY_STAGE_CUTS.get(cfg.policy, {}).get(
            self.stages, self.CUTS[:self.stages])

    def elaborate(self, platform):
        m = Module()
        pipe = Pipeline(m, self.i)
        build = self.POLICY_BUILD.get(self._cfg.policy)
        out = (build(m, pipe, self.cuts, self._cfg, self.i.payload) if build
               else self.build(m, pipe, self.cuts))
        pipe.connect(self.o)
        m.d.comb += self.o.payload.eq(out)
        return m

    def build(self, m, pipe, cuts):
        """Add the datapath from ``i.payload`` to ``m``; return the value for ``o.payload``.

        ``cuts`` are the register positions in use; at each, the datapath calls
        ``pipe.register``.
        """
        raise NotImplementedError
