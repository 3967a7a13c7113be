"""A fixed piece of Python work, timed: how fast this machine's CPU is right now.

This shared machine's CPU speed has been seen to halve within a session while its disk stayed as
fast, and the benchmarks' floors are bound by the disk's flush, not the CPU. Printed before and
after a benchmark, the probe says which machine a run's figures came from; compare runs by it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import Decimal

_KEY = b"calibration"
_DUMPS = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


def _work() -> None:
    """Canonical JSON, an HMAC and decimal sums: the kind of work a post does in Python."""
    total = Decimal(0)
    for n in range(4000):
        amount = Decimal(n) / 100
        total += amount
        body = _DUMPS(
            {"n": n, "amount": str(amount), "lines": [{"debit": str(amount)}, {"credit": str(amount)}]}
        )
        hmac.digest(_KEY, body.encode(), hashlib.sha256)


def cpu_probe_ms(repeats: int = 5) -> float:
    """The fastest of `repeats` timings of the fixed work, in ms (lower: a faster CPU)."""
    timings = []
    for _ in range(repeats):
        started = time.process_time()
        _work()
        timings.append((time.process_time() - started) * 1000)
    return min(timings)
