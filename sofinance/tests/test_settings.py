"""Settings from the environment: the embedded defaults, production refusals and check --deploy."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys

import pytest

from sofinance.tests.subprocesses import BASE_DIR, clean_env, manage, settings_of


def _production_env(tmp_path) -> dict[str, str]:
    return clean_env(
        DJANGO_SETTINGS_MODULE="sofinance.settings",
        SECRET_KEY=secrets.token_urlsafe(64),
        JWT_SECRET=f"2026a:{secrets.token_urlsafe(48)},2025b:{secrets.token_urlsafe(48)}",
        ALLOWED_HOSTS="books.example.com",
        SITE_URL="https://books.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    )


@pytest.mark.slow
def test_check_deploy_is_clean_with_production_variables(tmp_path):
    # given: DEBUG unset (off), real secrets, a host name
    env = _production_env(tmp_path)

    # when
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("site_url", "accept_url", "warned"),
    [
        (None, "", True),  # the default, http://localhost:8000
        ("http://127.0.0.1:8000", "", True),
        ("books.example.com", "", True),  # no scheme: no link
        (None, "https://app.example.com/join", False),  # the front end accepts: SITE_URL unused
    ],
)
def test_check_deploy_warns_when_invitation_links_would_point_at_this_machine(
    tmp_path, site_url, accept_url, warned
):
    env = _production_env(tmp_path)
    env.pop("SITE_URL")
    if site_url is not None:
        env["SITE_URL"] = site_url
    env["INVITATION_ACCEPT_URL"] = accept_url

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert (result.returncode != 0) is warned, result.stdout + result.stderr
    assert ("accounts.W001" in result.stdout + result.stderr) is warned


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({}, "SECRET_KEY and JWT_SECRET are"),
        ({"DEBUG": "0", "SECRET_KEY": "x" * 60}, "JWT_SECRET is"),
        ({"DEBUG": "false", "JWT_SECRET": "k1:" + "y" * 48}, "SECRET_KEY is"),
        ({"SECRET_KEY": "  ", "JWT_SECRET": ""}, "SECRET_KEY and JWT_SECRET are"),
    ],
)
def test_startup_is_refused_on_development_secrets_with_debug_off(extra, named):
    # given
    env = clean_env(DJANGO_SETTINGS_MODULE="sofinance.settings", **extra)

    # when
    result = manage("check", env=env)

    # then: one line naming every missing variable and how to set it; no traceback
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"SOFinance cannot start: DEBUG is off and {named} not set. Set ")
    assert "or set DEBUG=1 for development" in result.stderr
    assert "Traceback" not in result.stderr


def test_embedded_defaults_without_any_service(tmp_path):
    # given: only DEBUG, as `make run` has it
    env = clean_env(DJANGO_SETTINGS_MODULE="sofinance.settings", DEBUG="1")

    # when
    values = settings_of(
        ["DATABASES", "CACHES", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "STORAGES", "REDIS_URL"],
        env=env,
    )

    # then
    assert values["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert values["DATABASES"]["default"]["NAME"].endswith("db.sqlite3")
    assert values["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert values["REDIS_URL"] == ""
    assert values["CELERY_BROKER_URL"] == ""
    assert values["CELERY_TASK_ALWAYS_EAGER"] is True
    assert values["STORAGES"]["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"


@pytest.mark.parametrize(
    ("debug", "explicit", "expected"),
    [("1", None, 0), ("0", None, 60), ("1", "30", 30)],
)
def test_connections_are_kept_in_production_not_under_the_development_server(debug, explicit, expected):
    # runserver serves each request in a thread of its own: kept connections piled up until
    # PostgreSQL refused more (seen with `make run` on PostgreSQL)
    env = clean_env(
        DJANGO_SETTINGS_MODULE="sofinance.settings",
        DEBUG=debug,
        DATABASE_URL="postgres://u:p@db.example:5432/books",
        SECRET_KEY="s" * 50,
        JWT_SECRET="k:" + "j" * 40,
        **({"CONN_MAX_AGE": explicit} if explicit else {}),
    )

    values = settings_of(["DATABASES"], env=env)

    assert values["DATABASES"]["default"]["CONN_MAX_AGE"] == expected


def test_redis_url_drives_cache_broker_and_non_eager_tasks():
    env = clean_env(
        DJANGO_SETTINGS_MODULE="sofinance.settings",
        DEBUG="1",
        REDIS_URL="redis://127.0.0.1:6379/3",
        DATABASE_URL="postgres://u:p@db.example:5432/books",
    )

    values = settings_of(["DATABASES", "CACHES", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER"], env=env)

    assert values["DATABASES"]["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert values["DATABASES"]["default"]["NAME"] == "books"
    assert values["CACHES"]["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    assert values["CACHES"]["default"]["LOCATION"] == "redis://127.0.0.1:6379/3"
    assert values["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/3"
    assert values["CELERY_TASK_ALWAYS_EAGER"] is False


def test_bucket_variables_switch_default_storage_to_s3():
    env = clean_env(
        DJANGO_SETTINGS_MODULE="sofinance.settings",
        DEBUG="1",
        AWS_STORAGE_BUCKET_NAME="exports",
        AWS_S3_ENDPOINT_URL="http://127.0.0.1:9000",
    )

    values = settings_of(["STORAGES", "AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL"], env=env)

    assert values["STORAGES"]["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert (values["AWS_STORAGE_BUCKET_NAME"], values["AWS_S3_ENDPOINT_URL"]) == (
        "exports",
        "http://127.0.0.1:9000",
    )


def test_sentry_is_on_only_with_a_dsn():
    # given: a DSN that points nowhere (nothing is sent: no event is captured)
    script = (
        "import django, json, sentry_sdk; django.setup();"
        "client = sentry_sdk.get_client();"
        "print(json.dumps({'active': client.is_active(),"
        " 'integrations': sorted(client.integrations), 'environment': client.options['environment'],"
        " 'pii': client.options['send_default_pii']}))"
    )

    def run(**extra):
        env = clean_env(DJANGO_SETTINGS_MODULE="sofinance.settings", DEBUG="1", **extra)
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    # when
    off = run()
    on = run(SENTRY_DSN="https://public@127.0.0.1:9/1", ENVIRONMENT="staging")

    # then
    assert off["active"] is False
    assert on["active"] is True
    assert {"django", "celery"} <= set(on["integrations"])
    assert (on["environment"], on["pii"]) == ("staging", False)


_RENDERERS_SCRIPT = """
import django, json
django.setup()
from django.test import Client
from rest_framework.views import APIView
from django.conf import settings
from banking.api.views import JournalImportView, StatementListView
from ledger.api.report_views import TrialBalanceView
from sales.api.report_views import ArAgingView

client = Client()

def answer(url, **headers):
    response = client.get(url, secure=True, HTTP_HOST="books.example.com", **headers)
    return [response.status_code, response["Content-Type"].split(";")[0]]

print(json.dumps({
    "api": [r.__name__ for r in APIView.renderer_classes],
    "reports": [[r.__name__ for r in view.renderer_classes] for view in (TrialBalanceView, ArAgingView)],
    "list as api": answer("/api/v1/companies/1/accounts?format=api"),
    "report as api": answer("/api/v1/companies/1/reports/trial-balance?format=api"),
    "list for a browser": answer("/api/v1/companies/1/accounts", HTTP_ACCEPT="text/html"),
    "parsers": [p.__name__ for p in APIView.parser_classes],
    "upload parsers": [[p.__name__ for p in v.parser_classes] for v in (StatementListView, JournalImportView)],
    # a form to a JSON operation (the login takes anyone's body): refused before it is read
    "form login": None if settings.DEBUG else [
        (r := client.post("/api/v1/auth/token", {"username": "a", "password": "b"}, secure=True,
                          HTTP_HOST="books.example.com")).status_code,
        r.json()["error"]["code"],
    ],
}))
"""


@pytest.mark.parametrize("debug", ["0", "1"])
def test_the_browsable_api_and_its_forms_are_served_only_with_debug(tmp_path, debug):
    # given: production settings, DEBUG off (the HTML pages of the API are not in the schema), or on
    env = {**_production_env(tmp_path), "DEBUG": debug}

    # when: anonymous requests (the format is chosen before anyone is authenticated)
    result = subprocess.run(
        [sys.executable, "-c", _RENDERERS_SCRIPT],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    # then
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    if debug == "0":
        assert seen == {
            "api": ["EnvelopeJSONRenderer"],
            "reports": [["EnvelopeJSONRenderer", "CSVRenderer"]] * 2,
            "list as api": [404, "application/json"],
            "report as api": [404, "application/json"],
            "list for a browser": [406, "application/json"],
            "parsers": ["DecimalJSONParser"],
            "upload parsers": [["MultiPartParser"]] * 2,
            "form login": [415, "unsupported_media_type"],
        }
    else:
        assert seen == {
            "api": ["EnvelopeJSONRenderer", "EnvelopeBrowsableAPIRenderer"],
            "reports": [["EnvelopeJSONRenderer", "EnvelopeBrowsableAPIRenderer", "CSVRenderer"]] * 2,
            "list as api": [401, "text/html"],
            "report as api": [401, "text/html"],
            "list for a browser": [401, "text/html"],
            "parsers": ["DecimalJSONParser", "FormParser", "MultiPartParser"],  # the browsable API's forms
            "upload parsers": [["MultiPartParser"]] * 2,
            "form login": None,
        }
