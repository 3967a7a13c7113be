"""Helpers for work done in bulk in one process (an import of a whole file).

`collection_paused()`: Python's cyclic garbage collector is paused while a bulk job builds and
drops hundreds of thousands of small objects (rows, lines, entries). Each of its full passes
walks every object the process holds, so during an import of 30,000 lines it cost about a tenth
of the time (bench/bench_banking.py) for garbage that is not cyclic: reference counting frees
it anyway. The collector runs again as soon as the block ends, and collects whatever cycles the
block left.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
