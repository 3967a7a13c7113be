"""bench/run.py runs every bench_*.py script in turn and fails when one fails."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().parents[2] / "bench" / "run.py"


@pytest.fixture
def runner(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_runner", RUNNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "BENCH_DIR", tmp_path)
    return module


def _script(directory: Path, name: str, body: str) -> None:
    (directory / name).write_text(body)


def test_runs_every_script_in_order_and_reports_a_failure(runner, tmp_path, capsys):
    # given
    marker = tmp_path / "ran.txt"
    _script(tmp_path, "bench_b.py", f"open({str(marker)!r}, 'a').write('b'); raise SystemExit(3)\n")
    _script(tmp_path, "bench_a.py", f"open({str(marker)!r}, 'a').write('a')\n")
    _script(tmp_path, "helper.py", f"open({str(marker)!r}, 'a').write('x')\n")

    # when
    status = runner.main(["run.py"])

    # then
    assert status == 1
    assert marker.read_text() == "ab"
    out = capsys.readouterr().out
    assert "bench_a.py: ok" in out
    assert "bench_b.py: FAILED (exit 3)" in out
    assert "1 succeeded, 1 failed" in out


def test_filters_select_scripts_by_name(runner, tmp_path):
    marker = tmp_path / "ran.txt"
    _script(tmp_path, "bench_posting.py", f"open({str(marker)!r}, 'a').write('p')\n")
    _script(tmp_path, "bench_reports.py", f"open({str(marker)!r}, 'a').write('r')\n")

    assert runner.main(["run.py", "reports"]) == 0
    assert marker.read_text() == "r"
    assert runner.main(["run.py", "nothing-matches"]) == 2


def test_no_scripts_is_success(runner):
    assert runner.main(["run.py"]) == 0
