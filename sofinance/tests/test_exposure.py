"""Headers and exposure: the Content-Security-Policy, /metrics access, CORS, OPTIONS."""

from __future__ import annotations

import shutil
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from django.test import Client, override_settings

from accounts.tests.factories import UserFactory
from ledger.tests.factories import company_with_chart, post_entry
from sofinance.permissions import Role
from sofinance.tests.asserts import assert_error, assert_success
from sofinance.tests.ports import free_port, wait_for_port
from sofinance.tests.subprocesses import BASE_DIR, clean_env, settings_of

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def policy_of(response) -> dict[str, list[str]]:
    directives = (d.split() for d in response["Content-Security-Policy"].split(";") if d.strip())
    return {name: sources for name, *sources in directives}


class _InlineCode(HTMLParser):
    """Collects what a script-src 'self' policy would block: inline scripts, handlers, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            kind = (attributes.get("type") or "text/javascript").lower()
            if kind in ("text/javascript", "module", "application/javascript"):
                self._in_inline_script = True
        for name, value in attrs:
            if name.startswith("on"):
                self.blocked.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.blocked.append(f"<{tag} {name}={value}>")

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.blocked.append(f"inline script: {data.strip()[:60]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False


def blocked_by_policy(html: str) -> list[str]:
    parser = _InlineCode()
    parser.feed(html)
    return parser.blocked


@pytest.fixture
def books():
    return company_with_chart()


@pytest.fixture
def staff(books):
    user = UserFactory(is_staff=True, is_superuser=True)
    from accounts.models import Membership

    Membership.objects.create(user=user, company=books, role=Role.ADMIN)
    client = Client()
    client.force_login(user)
    return client


def test_every_kind_of_page_carries_the_policy_and_needs_no_inline_script(books, staff):
    # given: one of each kind of page: admin, admin reports, Swagger UI, browsable API, JSON
    entry = post_entry(books, "2026-01-05", ("6100", "5.00", "D"), ("1000", "5.00", "C"))
    pages = [
        "/admin/",
        "/admin/ledger/journalentry/",
        f"/admin/ledger/journalentry/{entry.pk}/change/",
        "/admin/ledger/journalentry/add/",
        "/admin/accounts/account/",
        f"/admin/accounts/account/reports/trial-balance/?company={books.pk}",
        "/api/docs/",
        "/api/v1/me",
    ]

    # when
    responses = {page: staff.get(page, HTTP_ACCEPT="text/html") for page in pages}
    responses["/admin/login/"] = Client().get("/admin/login/")
    json_response = staff.get("/api/v1/me", HTTP_ACCEPT="application/json")
    script = staff.get("/api/docs/?script=")

    # then
    for page, response in responses.items():
        assert response.status_code == 200, page
        assert policy_of(response) == POLICY, page
        assert response["Content-Type"].startswith("text/html"), page
        assert blocked_by_policy(response.content.decode()) == [], page
    assert policy_of(json_response) == POLICY
    assert script["Content-Type"].startswith("application/javascript")


def test_swagger_ui_assets_are_served_by_this_site(client):
    page = client.get("/api/docs/").content.decode()

    for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert f'"/static/drf_spectacular_sidecar/swagger-ui-dist/{asset}"' in page
    assert "http://" not in page and "https://" not in page


# --------------------------------------------------------------------------- /metrics


@pytest.mark.parametrize(
    ("address", "headers", "status"),
    [
        ("127.0.0.1", {}, 200),
        ("127.9.9.9", {}, 200),
        ("::1", {}, 200),
        ("10.1.2.3", {}, 403),
        ("10.1.2.3", {"HTTP_X_FORWARDED_FOR": "127.0.0.1", "HTTP_X_REAL_IP": "127.0.0.1"}, 403),
        ("10.1.2.3", {"HTTP_AUTHORIZATION": "Bearer anything"}, 403),
    ],
)
def test_metrics_default_to_loopback_only(address, headers, status):
    response = Client(REMOTE_ADDR=address).get("/metrics", **headers)

    assert response.status_code == status
    if status == 200:
        assert b"django_http_requests_total" in response.content
    else:
        assert response.content == b"Forbidden."


@override_settings(METRICS_TOKEN="s3cret-scraper-token", METRICS_ALLOWED_IPS=[])
@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        ("Bearer s3cret-scraper-token", 200),
        ("bearer s3cret-scraper-token", 200),
        ("Bearer wrong", 403),
        ("", 403),
    ],
)
def test_metrics_with_a_token_from_anywhere(authorization, status):
    response = Client(REMOTE_ADDR="203.0.113.9").get("/metrics", HTTP_AUTHORIZATION=authorization)

    assert response.status_code == status


@override_settings(METRICS_ALLOWED_IPS=["10.0.0.0/8", "192.0.2.7"])
def test_metrics_allowed_networks_are_configurable():
    assert Client(REMOTE_ADDR="10.200.0.1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="192.0.2.7").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 403


def test_metrics_settings_come_from_the_environment():
    env = clean_env(
        DJANGO_SETTINGS_MODULE="sofinance.settings",
        DEBUG="1",
        METRICS_TOKEN="t0k",
        METRICS_ALLOWED_IPS="10.0.0.0/8,fd00::/8",
        CORS_ALLOWED_ORIGINS="https://shop.example,https://admin.shop.example",
    )
    defaults = settings_of(
        ["METRICS_TOKEN", "METRICS_ALLOWED_IPS", "CORS_ALLOWED_ORIGINS"],
        env=clean_env(DJANGO_SETTINGS_MODULE="sofinance.settings", DEBUG="1"),
    )

    values = settings_of(["METRICS_TOKEN", "METRICS_ALLOWED_IPS", "CORS_ALLOWED_ORIGINS"], env=env)

    assert defaults == {
        "METRICS_TOKEN": "",
        "METRICS_ALLOWED_IPS": ["127.0.0.0/8", "::1"],
        "CORS_ALLOWED_ORIGINS": [],
    }
    assert values == {
        "METRICS_TOKEN": "t0k",
        "METRICS_ALLOWED_IPS": ["10.0.0.0/8", "fd00::/8"],
        "CORS_ALLOWED_ORIGINS": ["https://shop.example", "https://admin.shop.example"],
    }


# --------------------------------------------------------------------------- CORS


def _preflight(client, path="/api/v1/me", origin="https://shop.example"):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
    )


def test_cors_is_off_by_default(client, user):
    preflight = _preflight(client)
    client.force_login(user)
    simple = client.get("/api/v1/me", HTTP_ORIGIN="https://shop.example")

    assert "Access-Control-Allow-Origin" not in preflight
    assert "Access-Control-Allow-Origin" not in simple


@override_settings(CORS_ALLOWED_ORIGINS=["https://shop.example"])
def test_cors_answers_listed_origins_only(client, user):
    # when
    allowed = _preflight(client)
    other = _preflight(client, origin="https://evil.example")
    admin = _preflight(client, path="/admin/login/")

    # then
    assert allowed.status_code == 200
    assert allowed["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "idempotency-key" in allowed["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Origin" not in other
    assert "Access-Control-Allow-Origin" not in admin  # the API only
    client.force_login(user)
    simple = client.get("/api/v1/me", HTTP_ORIGIN="https://shop.example")
    assert simple["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "X-Request-ID" in simple["Access-Control-Expose-Headers"]


# --------------------------------------------------------------------------- OPTIONS


@pytest.mark.parametrize(
    ("suffix", "allow"),
    [
        ("/journal-entries", "GET, POST, HEAD, OPTIONS"),
        ("/accounts/{account}", "GET, PATCH, DELETE, HEAD, OPTIONS"),
        ("/reports/trial-balance", "GET, HEAD, OPTIONS"),
        ("/periods/generate", "POST, OPTIONS"),
        ("/audit-events", "GET, HEAD, OPTIONS"),
    ],
)
def test_options_answers_any_member_with_the_allowed_methods(books, make_member, suffix, allow):
    # given: a viewer, whose role may not write (and may not read the audit trail)
    _, viewer = make_member(books, Role.VIEWER)
    account = books.accounts.order_by("code").first()
    path = f"/api/v1/companies/{books.pk}" + suffix.format(account=account.pk)

    # when
    response = viewer.options(path)

    # then
    body = assert_success(response)
    assert response["Allow"] == allow
    assert body["data"]["methods"] == allow.split(", ")


def test_options_still_hides_other_companies_and_needs_a_login(books, make_member, api_client):
    _, outsider = make_member(company_with_chart(name="Other Ltd"), Role.ADMIN)

    assert_error(outsider.options(f"/api/v1/companies/{books.pk}/journal-entries"), 404, "not_found")
    assert_error(
        api_client.options(f"/api/v1/companies/{books.pk}/journal-entries"), 401, "not_authenticated"
    )


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("chromium") is None, reason="needs Debian's chromium (apt-get install chromium)"
)
def test_swagger_ui_renders_in_a_real_browser_under_the_policy(tmp_path):
    # given: the site served as `make run` serves it, with the policy on every response
    port = free_port()
    env = clean_env(
        DJANGO_SETTINGS_MODULE="sofinance.settings",
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL="",
        CELERY_BROKER_URL="",
        LOG_LEVEL="WARNING",
    )
    server = subprocess.Popen(
        [sys.executable, str(BASE_DIR / "manage.py"), "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=60, process=server)

        # when: a headless browser loads the page and runs its scripts (the UI is built by them)
        result = subprocess.run(
            [
                "chromium",
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--virtual-time-budget=10000",
                "--dump-dom",
                f"http://127.0.0.1:{port}/api/docs/",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.terminate()
        server.wait(timeout=20)

    # then: the operations were rendered from the schema, so no script was blocked
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'class="title">SOFinance API' in dom
    assert dom.count('class="opblock opblock-') >= 20
    assert "/api/v1/companies/{company_id}/journal-entries" in dom


@override_settings(CORS_ALLOWED_ORIGINS=["https://shop.example"], DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_a_listed_origin_can_read_the_refusals_too(client):
    # given: a body over the limit, refused before any view runs
    response = client.post(
        "/api/v1/auth/token",
        data='{"username": "' + "u" * 200 + '"}',
        content_type="application/json",
        HTTP_ORIGIN="https://shop.example",
    )

    assert_error(response, 413, "payload_too_large")
    assert response["Access-Control-Allow-Origin"] == "https://shop.example"
