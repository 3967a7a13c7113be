"""Write the development .env on first run, so the commands a newcomer types work.

`make run` runs `python -m sofinance.dev_env` before anything else. When the file is missing it
writes DEBUG=1 and freshly generated development secrets; from then on `manage.py changepassword
admin`, `manage.py shell`, `manage.py createsuperuser` (and every other command) find them without
`make`. An existing file is never touched. The file is gitignored and only for development: a
deployment sets its variables in the environment (README, "Environment").
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent.parent / ".env"

TEMPLATE = """\
# Written by `make run` (python -m sofinance.dev_env) for local development. Not for production:
# a deployment sets these in its environment, with DEBUG off. Delete this file to start afresh.
DEBUG=1
SECRET_KEY={secret_key}
JWT_SECRET=dev:{jwt_secret}
"""


def dev_env_ensure(path: Path) -> bool:
    """Write the development .env at `path` unless it exists; True when it was written."""
    if path.exists():
        return False
    text = TEMPLATE.format(secret_key=secrets.token_urlsafe(50), jwt_secret=secrets.token_urlsafe(48))
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--path", type=Path, default=Path(os.environ.get("SOFINANCE_ENV_FILE") or DEFAULT_PATH)
    )
    args = parser.parse_args(argv)
    if dev_env_ensure(args.path):
        print(f"Wrote {args.path}: DEBUG=1 and development secrets, so manage.py commands work without make.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
