"""Run every benchmark script (bench/bench_*.py) in turn and summarise.

Each script runs in its own process with this interpreter, from the repository root, and
prints its own results; this runner reports how long each took and whether it succeeded.
Usage: python bench/run.py [NAME ...]   (names filter by substring, e.g. `posting`)
Exit status: 0 when every selected script succeeded, 1 otherwise (2 when a filter matched none).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent


def discover(filters: list[str]) -> list[Path]:
    scripts = sorted(BENCH_DIR.glob("bench_*.py"))
    if filters:
        scripts = [s for s in scripts if any(f in s.stem for f in filters)]
    return scripts


def run(script: Path) -> tuple[int, float]:
    print(f"=== {script.name}", flush=True)
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, str(script)], cwd=ROOT, check=False)
    return completed.returncode, time.perf_counter() - started


def main(argv: list[str]) -> int:
    filters = argv[1:]
    scripts = discover(filters)
    if not scripts:
        if filters:
            print(f"No benchmark matches {' '.join(filters)!r} in {BENCH_DIR}.", file=sys.stderr)
            return 2
        print(f"No benchmarks yet (bench/bench_*.py) in {BENCH_DIR}.")
        return 0
    results = []
    for script in scripts:
        code, seconds = run(script)
        results.append((script.name, code, seconds))
        print(f"--- {script.name}: {'ok' if code == 0 else f'FAILED (exit {code})'} in {seconds:.1f} s\n")
    print("Summary:")
    for name, code, seconds in results:
        print(f"  {'ok    ' if code == 0 else 'FAILED'}  {seconds:8.1f} s  {name}")
    failed = sum(1 for _, code, _ in results if code != 0)
    print(f"{len(results) - failed} succeeded, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
