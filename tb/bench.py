"""The cocotb cycle loop of the stream agents of :mod:`tb.stream`.

All agents run in one cycle loop (:class:`Bench`): at every falling clock edge each agent
drives its inputs, then at ``ReadOnly`` of the same time step each agent samples the settled
signals. Nothing changes between that ``ReadOnly`` and the next rising edge, so a
``valid & ready`` sampled there is exactly a transfer on that rising edge
(Amaranth ``lib.stream`` semantics). Reset edges (``rst`` high) carry no transfers.
"""

from cocotb.triggers import FallingEdge, ReadOnly
from cocotb.types import LogicArray

from . import stream
from .stream import BenchError, Phases, Scoreboard, StreamMonitor, make_rng

__all__ = ["Phases", "StreamDriver", "StreamMonitor", "Scoreboard", "Bench", "BenchError", "make_rng"]


class StreamDriver(stream.StreamDriver):
    """:class:`tb.stream.StreamDriver`; ``idle_x=True`` drives X on a 4-state simulator."""

    def __init__(self, name, valid, ready, payload, width, rng, phases, on_accept=None, sb=None,
                 idle_x=False):
        super().__init__(name, valid, ready, payload, width, rng, phases, on_accept, sb,
                         LogicArray("X" * width) if idle_x else None)


class Bench:
    """The per-cycle loop over all agents."""

    def __init__(self, dut, agents, rng, phases=None):
        self.dut, self.agents, self.rng, self.phases = dut, list(agents), rng, phases
        self.cycle = 0
        self.in_reset = False

    async def cycles(self, count=None, until=None, max_cycles=200_000, watchdog=None):
        """Run cycles until ``until()`` is true (checked before each cycle) or ``count`` ran."""
        start = self.cycle
        while True:
            if until is not None and until():
                return
            if count is not None and self.cycle - start >= count:
                return
            if self.cycle - start >= max_cycles:
                raise BenchError(f"timeout after {max_cycles} cycles")
            if watchdog is not None:
                watchdog(self.cycle)
            await FallingEdge(self.dut.clk)
            self.dut.rst.value = 1 if self.in_reset else 0
            if self.phases is not None:
                self.phases.step()
            for agent in self.agents:
                agent.drive(self.cycle, self.in_reset)
            await ReadOnly()
            for agent in self.agents:
                agent.sample(self.cycle, self.in_reset)
            self.cycle += 1

    async def reset(self, cycles=2):
        self.in_reset = True
        await self.cycles(count=cycles)
        self.in_reset = False
