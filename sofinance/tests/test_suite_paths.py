"""`make test` and CI run `pytest` with no paths: pytest.ini's testpaths decide what runs. An app
whose tests are not listed there is silently never tested (jobs/tests was left out for a while)."""

from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = {".venv", ".git", "node_modules", "staticfiles", "artifacts"}


def test_every_directory_holding_tests_is_in_the_test_paths():
    config = configparser.ConfigParser()
    config.read(ROOT / "pytest.ini")
    listed = set(config["pytest"]["testpaths"].split())
    holding_tests = {
        path.relative_to(ROOT).parts[0]
        for path in ROOT.rglob("test_*.py")
        if path.relative_to(ROOT).parts[0] not in SKIPPED
    }
    assert holding_tests, "no test file found: the search is wrong"
    assert holding_tests - listed == set(), "add these to testpaths in pytest.ini"
