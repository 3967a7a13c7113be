"""The application's database role reads and writes rows, posts through the ledger's functions,
and can switch off no invariant: no ALTER, no DISABLE TRIGGER, no TRUNCATE, no replica mode."""

from __future__ import annotations

import datetime
import uuid

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from ledger.tests.factories import account, company_with_chart

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app_role():
    name = f"sofinance_app_{uuid.uuid4().hex[:8]}"
    call_command("db_app_role", role=name, verbosity=0)
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f"DROP OWNED BY {name} CASCADE")
        cursor.execute(f"DROP ROLE {name}")


def as_role(role: str) -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=role, dbname=s["NAME"])


def test_the_app_role_posts_but_cannot_switch_an_invariant_off(app_role):
    books = company_with_chart(name="Least Privilege Ltd")
    rent, cash = account(books, "6100"), account(books, "1000")
    with as_role(app_role) as db:
        # rows: a draft and its lines, posted by the update the entry trigger checks
        entry_id = db.execute(
            "INSERT INTO ledger_journalentry (company_id, date, description, reference, source, status, "
            "created_at, updated_at) VALUES (%s, %s, '', '', 'manual', 'draft', now(), now()) RETURNING id",
            [books.pk, datetime.date(2026, 1, 5)],
        ).fetchone()[0]
        for line_no, (acct, amount) in enumerate(((rent, 10), (cash, -10)), start=1):
            db.execute(
                "INSERT INTO ledger_journalline (company_id, entry_id, line_no, account_id, description, debit, "
                "credit, currency, amount, fx_rate, base_amount, date, entry_sequence) "
                "VALUES (%s, %s, %s, %s, '', %s, %s, 'USD', %s, 1, %s, %s, 1)",
                [
                    books.pk,
                    entry_id,
                    line_no,
                    acct.pk,
                    max(amount, 0),
                    max(-amount, 0),
                    amount,
                    amount,
                    "2026-01-05",
                ],
            )
        db.execute(
            "UPDATE ledger_journalentry SET status = 'posted', sequence = 1, number = 'JE-2026-000001', "
            "posted_at = now() WHERE id = %s",
            [entry_id],
        )
        # the posting functions and their sequences
        reserved = db.execute(
            "SELECT last_sequence FROM ledger_posting_reserve(%s, 1, 2, %s, %s, %s::bigint[], %s::text[])",
            [books.pk, datetime.date(2026, 1, 6), datetime.date(2026, 1, 6), [], ["6100"]],
        ).fetchone()
        assert reserved == (1,)
        db.commit()
        # what it must not do
        for statement in (
            "ALTER TABLE ledger_journalentry DISABLE TRIGGER ledger_entry_guard",
            "ALTER TABLE ledger_journalline DISABLE TRIGGER ALL",
            "TRUNCATE audit_auditevent",
            "TRUNCATE ledger_journalline",
            "DROP TABLE audit_auditseal",
            "SET session_replication_role = replica",
            "CREATE OR REPLACE FUNCTION ledger_line_guard() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                db.execute(statement)
            db.rollback()
        # and a posted entry stays immutable for it too
        with pytest.raises(psycopg.errors.RaiseException, match="entry_immutable"):
            db.execute("UPDATE ledger_journalentry SET description = 'x' WHERE id = %s", [entry_id])
        db.rollback()
    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM ledger_journalentry WHERE id = %s", [entry_id])
        assert cursor.fetchone() == ("posted",)


def test_running_it_twice_changes_nothing_and_it_refuses_the_app_role_itself(app_role):
    call_command("db_app_role", role=app_role, verbosity=0)  # idempotent
    with pytest.raises(Exception, match="not a plain role name"):
        call_command("db_app_role", role="Robert'); DROP TABLE x;--", verbosity=0)
