"""The Amaranth-simulator cycle loop of the stream agents of :mod:`tb.stream`.

tests/test_rtl_top.py drives FacetEncoder and FacetDecoder with the driver, monitor and
scoreboard that the cocotb regression of the generated Verilog uses (tb/cocotb_facet.py), so
both check the lib.stream rules and the block order the same way. One check is added here,
since only a simulator of the Amaranth design can make it cheaply: ``o.valid`` must not depend
combinationally on ``o.ready``.
"""

import random

from amaranth.hdl import ClockDomain, Module, Value
from amaranth.sim import Simulator

from .stream import Phases, Scoreboard, StreamDriver, StreamMonitor

__all__ = ["StreamRun"]


class _Settled(int):
    """A two-state value as the agents read it from a handle."""

    is_resolvable = True

    def to_unsigned(self):
        return int(self)


class _Port:
    """An Amaranth value as an agent's handle: ``value`` reads and drives it in the testbench."""

    def __init__(self, value):
        self.signal = Value.cast(value)
        self.ctx = None

    @property
    def value(self):
        return _Settled(self.ctx.get(self.signal))

    @value.setter
    def value(self, v):
        self.ctx.set(self.signal, v)


class StreamRun:
    """One stream of blocks through ``dut``, a component with stream ports ``i`` and ``o``.

    ``expected[k]`` is the output of ``payloads[k]``. The producer idles before a block with
    probability ``p_gap``; the consumer is not ready in a cycle with probability ``p_stall``.
    ``resets``: counts of accepted inputs after which a one-cycle reset is applied; the blocks
    in flight are dropped and the inputs not yet accepted are sent after it. After :meth:`run`,
    ``sb`` is the scoreboard and ``accept_cycles`` the cycles of the input transfers.
    """

    DRAIN = 8  # cycles with ready high after the last block: an extra block is an error

    def __init__(self, dut, payloads, expected, *, seed, p_gap=0.3, p_stall=0.3, resets=()):
        self.dut, self.payloads = dut, payloads
        self.resets = sorted(resets)
        rng = random.Random(seed)
        self.phases = Phases(rng, first=(p_gap, 1 - p_stall), first_len=1 << 30)
        self.sb = Scoreboard("o", expected, lambda k: {"input": f"{payloads[k]:#x}"})
        self.ports = [_Port(p) for p in (dut.i.valid, dut.i.ready, dut.i.payload,
                                         dut.o.valid, dut.o.ready, dut.o.payload)]
        i_valid, i_ready, i_payload, o_valid, o_ready, o_payload = self.ports
        self.accept_cycles = []
        self.mon = StreamMonitor("o", o_valid, o_ready, o_payload, rng, self.phases, self.sb)
        self.drv = StreamDriver("i", i_valid, i_ready, i_payload, len(i_payload.signal), rng,
                                self.phases, on_accept=self._accepted, sb=self.sb)

    def _accepted(self, k, cycle):
        self.mon.require_idle = False
        self.accept_cycles.append(cycle)
        self.sb.expect(k, cycle)

    def _cycle(self, ctx, cycle, in_reset):
        for agent in (self.drv, self.mon):
            agent.drive(cycle, in_reset)
        # o.valid is read with o.ready low and high: it must not change.
        o_valid, o_ready = self.dut.o.valid, self.dut.o.ready
        ctx.set(o_ready, 0)
        low = ctx.get(o_valid)
        ctx.set(o_ready, 1)
        if ctx.get(o_valid) != low:
            self.sb.error(cycle, "o.valid depends on o.ready")
        ctx.set(o_ready, self.mon.ready_now)
        for agent in (self.drv, self.mon):
            agent.sample(cycle, in_reset)

    def run(self, max_cycles=None):
        """Simulate until every block came out (or ``max_cycles``); return the scoreboard."""
        max_cycles = max_cycles or 8 * len(self.payloads) + 50
        m = Module()
        m.domains.sync = cd = ClockDomain()
        m.submodules.dut = self.dut
        self.drv.load(enumerate(self.payloads))

        async def bench(ctx):
            for port in self.ports:
                port.ctx = ctx
            resets, drain = list(self.resets), None
            for cycle in range(max_cycles):
                in_reset = bool(resets) and self.drv.accepted == resets[0] and self.drv.current is None
                ctx.set(cd.rst, in_reset)
                self._cycle(ctx, cycle, in_reset)
                await ctx.tick()
                if in_reset:
                    resets.pop(0)
                    self.drv.requeue()
                    self.sb.reset()
                    self.mon.require_idle = True
                elif drain is None and self.drv.idle and not self.sb.queue and not resets:
                    drain = cycle + self.DRAIN
                    self.phases.force(0.0, 1.0)
                if cycle == drain:
                    return

        sim = Simulator(m)
        sim.add_clock(1e-8)
        sim.add_testbench(bench)
        sim.run()
        if self.sb.queue or not self.drv.idle:
            self.sb.error(max_cycles, f"timeout: {len(self.sb.queue)} blocks still expected, "
                                      f"{len(self.drv.items)} not sent")
        return self.sb

    def check(self):
        """Run, and fail with the first mismatches and protocol errors."""
        sb = self.run()
        s = sb.summary()
        assert sb.ok, (f"{s['mismatch_count']} mismatches, {s['error_count']} errors: "
                       f"{s['mismatches'][:3]} {s['errors'][:5]}")
        assert sb.checked == len(self.payloads) - sb.dropped, "blocks missing"
        return sb
