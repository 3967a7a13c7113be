"""Fixtures shared by every app's tests."""

from __future__ import annotations

import os
import random

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import CompanyFactory, MembershipFactory, UserFactory
from sofinance.api.jwt import issue_token_pair
from sofinance.api.throttling import reset_local_buckets
from sofinance.permissions import Role


def pytest_configure(config):
    # The schema fuzzing's random seed (sofinance/tests/test_fuzz_schema.py), chosen once by the
    # process that reports, inherited by xdist's workers, shown in the header for replay.
    os.environ.setdefault("FUZZ_SEED", str(random.SystemRandom().randrange(2**32)))


def pytest_report_header(config):
    return (
        f"schema fuzzing random seed: {os.environ['FUZZ_SEED']} (replay: FUZZ_SEED={os.environ['FUZZ_SEED']})"
    )


@pytest.fixture(autouse=True, scope="session")
def _flush_past_the_audit_truncate_guard():
    """Transactional tests end with Django's flush, a TRUNCATE of every table, which the audit
    tables refuse (audit migration 0004). The test database role is a superuser: the flush runs
    with `session_replication_role = replica`, which fires no ordinary trigger, for its own
    transaction only. Production code has no such door."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else statements

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


@pytest.fixture(autouse=True, scope="session")
def _row_locks_name_their_tables():
    """`select_for_update()` over a join locks every joined row FOR UPDATE on PostgreSQL: with
    `select_related("company")` the company's row, which every insert of a company-owned row
    (a journal entry's foreign key check) must share. A draft's posting so locked the company
    and then waited for the journal number, while a concurrent posting held the number and waited
    for the company: a deadlock (503 `database_busy`). Every locking query with a join in the
    suite names what it locks (`of=("self",)`), and the company's row, when a service locks it
    on purpose (the year-end close, period generation, invitations), is locked FOR NO KEY UPDATE,
    which no foreign key check waits for; or the test fails here."""
    from django.db.models.sql.compiler import SQLCompiler

    from accounts.models import Company

    original = SQLCompiler.as_sql

    def as_sql(self, *args, **kwargs):
        sql, params = original(self, *args, **kwargs)
        query = self.query
        if (
            query.select_for_update
            and not query.select_for_update_of
            and self.connection.vendor == "postgresql"
            and " JOIN " in sql
        ):
            raise AssertionError(
                "select_for_update() over a join locks the joined rows too; name what it locks "
                f"with of=(...): {sql[:300]}"
            )
        if query.select_for_update and query.model is Company and not query.select_for_no_key_update:
            raise AssertionError(
                "The company's row is locked FOR NO KEY UPDATE (select_for_update(no_key=True)): "
                "FOR UPDATE makes every insert of the company's rows wait, and a posting holding "
                "the journal number then deadlocks with this transaction."
            )
        return sql, params

    SQLCompiler.as_sql = as_sql
    yield
    SQLCompiler.as_sql = original


@pytest.fixture(autouse=True)
def _isolated_media_root(settings, tmp_path):
    """Each test has its own MEDIA_ROOT: files (exports, audit anchors) never leak between tests
    or from a developer's local runs."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _isolated_rate_limits():
    reset_local_buckets()
    yield
    reset_local_buckets()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def auth_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token_pair(user_id=user.pk)['access']}")
    return client


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def company(db):
    return CompanyFactory()


@pytest.fixture
def make_member(db):
    """make_member(company, role) -> (user, authenticated APIClient)."""

    def _make(company, role: str = Role.ADMIN, user=None):
        user = user or UserFactory()
        MembershipFactory(user=user, company=company, role=role)
        return user, auth_client(user)

    return _make


@pytest.fixture
def admin_client(company, make_member):
    _, client = make_member(company, Role.ADMIN)
    return client


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def client_admin(client, superuser):
    """Django's test client logged in to the admin as a superuser."""
    client.force_login(superuser)
    return client
