"""Amaranth-simulator check of a combinational stage against the golden model, block by block.

The stage tests (tests/test_rtl_stages.py, tests/test_rtl_significance.py) give, per block,
the integer of every input port and the integer the model expects on every output port
(:mod:`tb.ports` converts the model's arrays).
"""

from amaranth.hdl import Value
from amaranth.sim import Simulator

__all__ = ["check_stage", "mask_int"]


def mask_int(row):
    """A row of booleans (a presence mask) as the integer with bit ``j`` for ``row[j]``."""
    return int(sum(int(v) << j for j, v in enumerate(row)))


def check_stage(dut, inputs, outputs, count):
    """Drive ``inputs(b)`` and compare ``outputs(b)`` for blocks ``b`` in ``range(count)``.

    ``inputs(b)`` and ``outputs(b)`` give ``{port name: int}``. Fails with the first
    mismatches (block, port, got, expected).
    """
    mismatches = []

    async def bench(ctx):
        for b in range(count):
            for port, value in inputs(b).items():
                ctx.set(Value.cast(getattr(dut, port)), value)
            for port, want in outputs(b).items():
                got = ctx.get(Value.cast(getattr(dut, port)))
                if got != want:
                    mismatches.append((b, port, hex(got), hex(want)))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    assert not mismatches, f"{len(mismatches)} mismatches, first: {mismatches[:3]}"
