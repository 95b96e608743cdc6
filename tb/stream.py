"""Simulator-independent stream agents: driver, monitor, scoreboard, traffic shapes.

The agents touch signals only through handles with a ``value`` attribute: set to drive, read
to get an object with ``is_resolvable``, ``int()`` and ``to_unsigned()``. cocotb handles are
such handles (:mod:`tb.bench` runs the agents under cocotb); :mod:`tb.amaranth_bench` wraps
Amaranth signals so that the Amaranth simulator runs the very same agents. A cycle loop calls
every agent's ``drive(cycle, in_reset)`` and then, once the signals settled, its
``sample(cycle, in_reset)``; a ``valid & ready`` sampled there is a transfer on the next edge.
"""

import collections
import random

__all__ = ["Phases", "StreamDriver", "StreamMonitor", "Scoreboard", "BenchError", "make_rng"]


class BenchError(AssertionError):
    pass


class Phases:
    """Traffic shape: runs of cycles with a valid-gap and a ready probability.

    Includes full-rate runs (no gaps, always ready), heavy backpressure, sparse input and
    ready stalls long enough for the pipeline to fill.
    """

    SHAPES = (
        (0.0, 1.0),   # full rate
        (0.0, 1.0),
        (0.5, 0.5),
        (0.1, 0.3),   # heavy backpressure
        (0.8, 1.0),   # sparse input
        (0.0, 0.9),
        (0.3, 0.7),
        (0.0, 0.0),   # ready stall: the pipeline fills and must hold its blocks
    )

    def __init__(self, rng, first=(0.0, 1.0), first_len=64):
        self.rng = rng
        self.gap, self.ready = first
        self.left = first_len

    def force(self, gap, ready, cycles=1 << 30):
        """Hold one shape for ``cycles`` cycles (then random shapes again)."""
        self.gap, self.ready, self.left = gap, ready, cycles

    def step(self):
        self.left -= 1
        if self.left <= 0:
            self.gap, self.ready = self.rng.choice(self.SHAPES)
            stall = self.ready == 0.0
            self.left = self.rng.randint(2, 12) if stall else self.rng.randint(16, 200)


class StreamDriver:
    """Drives a stream source: ``valid``, ``payload``; random gaps between items.

    Holds ``valid`` and ``payload`` until the transfer. While ``valid`` is low the payload
    carries random garbage (or X), so a DUT that captures without ``valid`` is caught.
    """

    def __init__(self, name, valid, ready, payload, width, rng, phases, on_accept=None, sb=None,
                 idle_x=None):
        self.name, self.valid, self.ready, self.payload = name, valid, ready, payload
        self.sb = sb
        # ``idle_x``: an all-X value, on a 4-state simulator. The idle payload is X half of
        # the time then: a DUT that lets an idle payload into its state shows X at its outputs.
        self.idle_x = idle_x
        self.width, self.rng, self.phases = width, rng, phases
        self.items = collections.deque()  # (index, value)
        self.current = None
        self.on_accept = on_accept
        self.accepted = 0
        self.last_accept_cycle = None
        self.enabled = True

    def load(self, items):
        self.items.extend(items)

    def flush(self):
        """Forget queued and presented items (used across a reset)."""
        dropped = len(self.items) + (self.current is not None)
        self.items.clear()
        self.current = None
        return dropped

    def requeue(self):
        """After a reset: present the item that was not accepted again, first."""
        if self.current is not None:
            self.items.appendleft(self.current)
            self.current = None

    @property
    def idle(self):
        return self.current is None and not self.items

    def drive(self, cycle, in_reset):
        if in_reset or not self.enabled:
            if in_reset and self.current is not None:  # withdrawn, not transferred
                self.items.appendleft(self.current)
                self.current = None
            if self.current is None:
                self.valid.value = 0
                self._idle_payload()
            return
        if self.current is None:
            if self.items and self.rng.random() >= self.phases.gap:
                self.current = self.items.popleft()
                self.valid.value = 1
                self.payload.value = self.current[1]
            else:
                self.valid.value = 0
                self._idle_payload()

    def _idle_payload(self):
        if self.idle_x is not None and self.rng.random() < 0.5:
            self.payload.value = self.idle_x
        else:
            self.payload.value = self.rng.getrandbits(self.width)

    def sample(self, cycle, in_reset):
        r = self.ready.value
        if not r.is_resolvable:
            if self.sb is not None:
                self.sb.error(cycle, f"{self.name} ready is {r}")
            return
        if self.current is not None and not in_reset and int(r):
            if self.on_accept:
                self.on_accept(self.current[0], cycle)
            self.accepted += 1
            self.last_accept_cycle = cycle
            self.current = None


class StreamMonitor:
    """Stream sink: random ``ready`` backpressure, X/Z and protocol checks, feeds a scoreboard.

    With ``fire`` given the monitor is passive: it drives nothing and records a transfer when
    ``fire`` (valid & ready inside the design) is high.
    """

    def __init__(self, name, valid, ready, payload, rng, phases, scoreboard, fire=None,
                 check_x=True):
        self.name, self.valid, self.ready, self.payload = name, valid, ready, payload
        self.rng, self.phases, self.sb = rng, phases, scoreboard
        self.fire, self.check_x = fire, check_x
        self.ready_now = 0
        self.pending = None  # payload offered but not taken in the previous cycle
        self.has_pending = False
        self.require_idle = False  # set after a reset: valid must stay low until an input
        self.transfers = 0         # is accepted again
        self.last_transfer_cycle = None
        self.first_valid_cycle = None

    def drive(self, cycle, in_reset):
        if self.fire is not None:
            return
        self.ready_now = 1 if self.rng.random() < self.phases.ready else 0
        self.ready.value = self.ready_now

    def sample(self, cycle, in_reset):
        v = self.valid.value
        if self.check_x and not v.is_resolvable:
            self.sb.error(cycle, f"{self.name} valid is {v}")
            return
        if in_reset:
            self.has_pending = False
            return
        valid = int(v)
        if self.fire is not None:
            taken = valid and int(self.fire.value)
        else:
            taken = valid and self.ready_now
        if valid and self.first_valid_cycle is None:
            self.first_valid_cycle = cycle
        if valid and self.require_idle:
            self.sb.error(cycle, f"{self.name}: valid high after reset before any input was "
                                 "accepted (stale block)")
        payload = None
        if valid:
            raw = self.payload.value
            if self.check_x and not raw.is_resolvable:
                self.sb.error(cycle, f"{self.name} payload has X/Z while valid: {raw}")
            else:
                payload = raw.to_unsigned()
        if self.has_pending:
            if not valid:
                self.sb.error(cycle, f"{self.name}: valid dropped before the transfer "
                                     "(stream protocol)")
            elif payload is not None and self.pending is not None and payload != self.pending:
                self.sb.error(cycle, f"{self.name}: payload changed while valid and not "
                                     f"ready: {self.pending:#x} -> {payload:#x}")
        self.has_pending = bool(valid and not taken)
        self.pending = payload
        if taken:
            self.transfers += 1
            self.last_transfer_cycle = cycle
            self.sb.got(payload, cycle)


class Scoreboard:
    """In-order comparison of DUT outputs with the golden model's, bit for bit."""

    MAX_DETAILS = 8

    def __init__(self, name, expected, describe):
        self.name = name
        self.expected_values = expected  # index -> expected int
        self.describe = describe  # index -> dict with the input block, for reproducers
        self.queue = collections.deque()  # (index, accept cycle)
        self.checked = 0
        self.mismatch_count = 0
        self.mismatches = []
        self.errors = []
        self.error_count = 0
        self.latencies = []
        self.dropped = 0

    def expect(self, index, cycle):
        self.queue.append((index, cycle))

    def reset(self):
        self.dropped += len(self.queue)
        self.queue.clear()

    def error(self, cycle, msg):
        self.error_count += 1
        if len(self.errors) < self.MAX_DETAILS:
            self.errors.append(f"cycle {cycle}: {msg}")

    def got(self, value, cycle):
        if not self.queue:
            shown = "X/Z" if value is None else f"{value:#x}"
            self.error(cycle, f"{self.name}: unexpected output block {shown} (no input pending)")
            return
        index, accepted = self.queue.popleft()
        self.latencies.append(cycle - accepted)
        want = self.expected_values[index]
        self.checked += 1
        if value != want:
            self.mismatch_count += 1
            if len(self.mismatches) < self.MAX_DETAILS:
                entry = {"index": int(index), "cycle": cycle, "expected": f"{want:#x}",
                         "got": "X/Z" if value is None else f"{value:#x}"}
                if value is not None:
                    entry["diff_bits"] = [i for i in range(max(want.bit_length(),
                                                               value.bit_length()))
                                          if ((want ^ value) >> i) & 1][:64]
                entry.update(self.describe(index))
                self.mismatches.append(entry)

    @property
    def ok(self):
        return not self.mismatch_count and not self.error_count

    def summary(self):
        lat = self.latencies
        return {
            "checked": self.checked, "mismatch_count": self.mismatch_count,
            "mismatches": self.mismatches, "error_count": self.error_count,
            "errors": self.errors, "dropped_by_reset": self.dropped,
            "latency_min": min(lat) if lat else None, "latency_max": max(lat) if lat else None,
        }

def make_rng(seed, salt):
    return random.Random(f"{seed}:{salt}")
