"""A newcomer's first hour: after `make run` the commands they type work, a missing secret is one
clear line, and / shows where everything is."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from sofinance.dev_env import dev_env_ensure
from sofinance.tests.subprocesses import BASE_DIR, clean_env, manage


def _after_make_run(tmp_path) -> dict[str, str]:
    """The environment of a shell after `make run`: nothing set but the .env it wrote."""
    env_file = tmp_path / ".env"
    result = subprocess.run(
        [sys.executable, "-m", "sofinance.dev_env", "--path", str(env_file)],
        cwd=BASE_DIR,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Wrote {env_file}: DEBUG=1 and development secrets")
    return clean_env(
        SOFINANCE_ENV_FILE=str(env_file),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL="",
        CELERY_BROKER_URL="",
        LOG_LEVEL="WARNING",
    )


def test_the_first_run_writes_a_private_development_env_once(tmp_path):
    # given
    path = tmp_path / ".env"

    # when
    first = dev_env_ensure(path)
    text = path.read_text()
    second = dev_env_ensure(path)

    # then
    assert (first, second) == (True, False)
    assert path.read_text() == text  # never rewritten: the secrets stay stable
    values = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert values["DEBUG"] == "1"
    assert len(values["SECRET_KEY"]) >= 50
    kid, secret = values["JWT_SECRET"].split(":", 1)
    assert kid == "dev" and len(secret) >= 48
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert dev_env_ensure(tmp_path / "other.env") and (tmp_path / "other.env").read_text() != text


@pytest.mark.slow
def test_manage_py_commands_work_after_make_run(tmp_path):
    # given: `make run`'s first step, then a new shell without DEBUG or any secret
    env = _after_make_run(tmp_path)
    assert "DEBUG" not in env and "SECRET_KEY" not in env
    assert manage("migrate", "--noinput", env=env).returncode == 0

    # when: the commands a newcomer types
    created = manage(
        "createsuperuser",
        "--noinput",
        "--username",
        "admin",
        "--email",
        "admin@example.com",
        env={**env, "DJANGO_SUPERUSER_PASSWORD": "first-Passw0rd-long"},
    )
    changed = subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), "changepassword", "admin"],
        cwd=BASE_DIR,
        env=env,
        input="second-Passw0rd-long\nsecond-Passw0rd-long\n",
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,  # no terminal: stdin
    )
    shell = manage(
        "shell",
        "-c",
        "from django.conf import settings; from accounts.models import User;"
        "print(settings.DEBUG, User.objects.get(username='admin').check_password('second-Passw0rd-long'))",
        env=env,
    )

    # then
    assert created.returncode == 0, created.stderr
    assert "Superuser created successfully." in created.stdout
    assert changed.returncode == 0, changed.stderr
    assert "Password changed successfully for user 'admin'" in changed.stdout
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.strip().splitlines()[-1] == "True True"


def test_without_the_env_file_the_refusal_is_one_line(tmp_path):
    # given: what a newcomer hit before: no .env, DEBUG unset
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    # when
    result = manage("changepassword", "admin", env=env)

    # then
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "SOFinance cannot start: DEBUG is off and SECRET_KEY and JWT_SECRET are not set. Set "
        "SECRET_KEY=<random>, JWT_SECRET=k1:<random> in the environment or in .env (make a random value "
        "with: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'), or set DEBUG=1 for "
        "development (`make run` writes a .env with DEBUG=1 and development secrets)."
    ]
    assert result.stdout == ""


def test_the_environment_wins_over_the_env_file(tmp_path):
    env = _after_make_run(tmp_path)

    result = manage(
        "shell", "-c", "from django.conf import settings; print(settings.DEBUG)", env={**env, "DEBUG": "0"}
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_make_run_writes_the_env_file_before_any_manage_py_command():
    result = subprocess.run(
        ["make", "-n", "run"], cwd=BASE_DIR, env=clean_env(), capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    lines = [
        line for line in result.stdout.splitlines() if "sofinance.dev_env" in line or "manage.py" in line
    ]
    assert lines[0] == ".venv/bin/python -m sofinance.dev_env"
    assert lines[1] == ".venv/bin/python manage.py migrate --noinput"


@pytest.mark.django_db
def test_the_front_page_links_admin_docs_and_health(client):
    response = client.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    for link in ('href="/admin/"', 'href="/api/docs/"', 'href="/api/schema/"', 'href="/health/ready"'):
        assert link in page
    assert "<script" not in page
