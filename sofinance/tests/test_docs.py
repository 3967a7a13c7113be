"""The README documents every environment variable the settings read."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV_READ = re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")
ENVIRON_READ = re.compile(r"""os\.environ(?:\.get|\.setdefault|\[)\(?\s*["']([A-Z][A-Z0-9_]*)["']""")


def _documented() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Environment", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", section))


def test_every_variable_read_by_the_settings_is_in_the_readme_table():
    # given
    read = set(ENV_READ.findall((ROOT / "sofinance" / "settings.py").read_text()))
    read |= set(ENVIRON_READ.findall((ROOT / "sofinance" / "settings_test.py").read_text()))

    # then
    assert {"DATABASE_URL", "SECRET_KEY", "JWT_SECRET", "ENABLE_KEY_MIRRORING"} <= read  # the scan works
    assert sorted(read - _documented()) == []


def test_readme_opens_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```bash", 1)[1].split("```", 1)[0]

    assert [line.split("#")[0].strip() for line in first_block.strip().splitlines()] == [
        "make run",
        "make test",
    ]


def test_every_variable_read_by_the_settings_is_in_env_example():
    read = set(ENV_READ.findall((ROOT / "sofinance" / "settings.py").read_text()))
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^# ([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    assert sorted(read - listed) == []
    assert sorted(listed - _documented()) == []  # and nothing the README does not explain
