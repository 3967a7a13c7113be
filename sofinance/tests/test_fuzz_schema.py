"""Schema fuzzing: schemathesis reads the OpenAPI document the app publishes (in-process, through
WSGI: no server) and sends generated requests to every operation as the owner (`admin`) of a
seeded company, with its company id in every company path and its objects' ids three times in four.

Each answer must be no 5xx, a status the operation documents, a body valid against the schema
documented for it (made strict: no undocumented field), and a refusal (4xx) must have written
nothing: the row counts of the key tables and of the audit trail are the same after it. Each case
runs in a savepoint rolled back after it, so cases do not build on each other.

Two runs: one with a fixed seed (the same cases every time) and one with a random seed, shown in
pytest's header and named in a failure, for replay:
`FUZZ_SEED=<seed> pytest sofinance/tests/test_fuzz_schema.py`.
`FUZZ_ONLY="POST /api/v1/companies/{company_id}/exports"` fuzzes that one operation only.
`FUZZ_EXAMPLES` sets the cases per operation and run (default below, sized for ~90 s on 2 cores).
"""

from __future__ import annotations

import os
import random
import time
import traceback
from collections import Counter

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, transaction
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory, UserFactory
from audit.models import AuditAction
from banking import services as banking_services
from banking.tests.factories import EUROPEAN_MAPPING, fixture, march_books
from jobs import services as jobs_services
from jobs.models import ExportFormat, ExportKind, Trigger
from jobs.tests.factories import books as jobs_books
from jobs.tests.factories import entry_line_of, sql
from ledger.tests.factories import account
from sofinance.api.jwt import issue_token_pair
from sofinance.permissions import Role
from sofinance.tests.openapi_contract import published_schema, strict

pytestmark = pytest.mark.django_db

FIXED_SEED = 20261130
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# The tables a refused request must leave as they were (every write also appends an audit event).
KEY_TABLES = (
    "audit_auditevent",
    "accounts_company",
    "accounts_membership",
    "accounts_invitation",
    "accounts_account",
    "ledger_journalentry",
    "ledger_journalline",
    "ledger_accountingperiod",
    "ledger_exchangerate",
    "sales_customer",
    "sales_item",
    "sales_taxrate",
    "sales_invoice",
    "sales_creditnote",
    "sales_payment",
    "banking_bankaccount",
    "banking_bankstatement",
    "banking_bankstatementline",
    "banking_bankmatch",
    "banking_importjob",
    "jobs_integrityrun",
    "jobs_discrepancy",
    "jobs_exportjob",
)


def key_table_counts() -> tuple[int, ...]:
    """The row count of each key table, in one round trip. A failed login is audited on purpose
    (`login_failed`, accounts/login_throttle.py): that event is the one write a 401 makes."""
    counts = [
        f"(SELECT count(*) FROM {table}"
        + (f" WHERE action <> '{AuditAction.LOGIN_FAILED}'" if table == "audit_auditevent" else "")
        + ")"
        for table in KEY_TABLES
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(counts))
        return tuple(cursor.fetchone())


# Where a path's `{id}` names an object of the seeded company: the collection before it.
def _object_ids(company_id: int) -> dict[str, list[int]]:
    from accounts.models import Account, Invitation
    from audit.models import AuditEvent
    from banking.models import BankAccount, BankStatement, BankStatementLine, ImportJob
    from jobs.models import Discrepancy, ExportJob, IntegrityRun
    from ledger.models import AccountingPeriod, ExchangeRate, JournalEntry
    from sales.models import CreditNote, Customer, Invoice, Item, Payment, TaxRate

    models = {
        "accounts": Account,
        "members": Membership,
        "invitations": Invitation,
        "journal-entries": JournalEntry,
        "exchange-rates": ExchangeRate,
        "periods": AccountingPeriod,
        "customers": Customer,
        "items": Item,
        "tax-rates": TaxRate,
        "invoices": Invoice,
        "credit-notes": CreditNote,
        "payments": Payment,
        "audit-events": AuditEvent,
        "bank-accounts": BankAccount,
        "bank-statements": BankStatement,
        "bank-lines": BankStatementLine,
        "import-jobs": ImportJob,
        "integrity-runs": IntegrityRun,
        "discrepancies": Discrepancy,
        "exports": ExportJob,
    }
    return {
        collection: list(
            model.objects.filter(company_id=company_id).order_by("pk").values_list("pk", flat=True)
        )
        for collection, model in models.items()
    }


def seeded_company() -> tuple[int, str]:
    """A company with a chart, posted entries, the sales ledger (invoices, a credit note,
    payments), a bank account with an imported statement, an export and an integrity run; returns
    its id and an access token of its admin."""
    books = jobs_books()
    company = books.company
    user = UserFactory()
    MembershipFactory(company=company, user=user, role=Role.ADMIN)
    march_books(company)
    bank = banking_services.bank_account_create(
        company=company, by=None, name="Operating account", account="1010", csv_mapping=EUROPEAN_MAPPING
    )
    banking_services.statement_upload(bank_account=bank, file=fixture("camt053_march.xml"), by=None)
    export = jobs_services.export_request(
        company=company,
        by=None,
        kind=ExportKind.TRIAL_BALANCE,
        fmt=ExportFormat.CSV,
        parameters={},
        enqueue=False,
    )
    jobs_services.export_execute(export_id=export.pk)
    jobs_services.export_request(
        company=company,
        by=None,
        kind=ExportKind.AR_AGING,
        fmt=ExportFormat.XLSX,
        parameters={},
        enqueue=False,
    )
    # a damaged invoice entry, so the integrity run has discrepancies to list and resolve
    damaged = entry_line_of(books.invoice.journal_entry, "4100")
    sql(
        "UPDATE ledger_journalline SET account_id = %s WHERE id = %s",
        [account(company, "4000").pk, damaged.pk],
    )
    run = jobs_services.integrity_run_request(company=company, by=None, trigger=Trigger.API, enqueue=False)
    jobs_services.integrity_run_execute(run_id=run.pk)
    return company.pk, issue_token_pair(user_id=user.pk)["access"]


@pytest.fixture
def in_process_requests():
    """Requests served by the WSGI handler in this thread keep the test's database connection
    (and its transaction), as Django's test client does: no closing of "old" connections."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _fuzz_seed(run: str) -> int:
    """The fixed seed, or the run's random one: FUZZ_SEED, chosen once per pytest session by the
    root conftest (and shown in the session header) unless given to replay a run."""
    if run == "fixed":
        return FIXED_SEED
    return int(os.environ.get("FUZZ_SEED") or random.SystemRandom().randrange(2**32))


@pytest.mark.parametrize("run", ["fixed", "random"])
def test_every_operation_survives_generated_requests(run, capsys, in_process_requests):
    run_seed = _fuzz_seed(run)
    with capsys.disabled():
        print(f"\nschema fuzzing ({run}): seed {run_seed} (replay: FUZZ_SEED={run_seed})")
    company_id, token = seeded_company()
    ids = _object_ids(company_id)
    schema = schemathesis.openapi.from_dict(strict(published_schema()))
    schema.app = in_process_requests
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    cases = 0
    statuses: Counter[int] = Counter()
    started = time.monotonic()
    # FUZZ_ONLY: one operation, e.g. "POST /api/v1/companies/{company_id}/exports"
    only = os.environ.get("FUZZ_ONLY", "")
    for result in schema.get_all_operations():
        operation = result.ok()
        if only and only != f"{operation.method.upper()} {operation.path}":
            continue
        fixed = {"company_id": company_id} if "{company_id}" in operation.path else {}
        collection = _collection_of_id(operation.path)
        # Valid requests (by the schema) and invalid ones (which must be refused with a 4xx).
        strategy = operation.as_strategy(
            GenerationMode.POSITIVE, path_parameters=fixed or None
        ) | operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed or None)

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=False,
        )
        @seed(run_seed)
        @given(case=strategy, pick=st.integers(min_value=0, max_value=2**16))
        def send(case, pick):
            nonlocal cases
            known = ids.get(collection) or []
            if known and "id" in (case.path_parameters or {}) and pick % 4:
                case.path_parameters["id"] = known[pick % len(known)]
            cases += 1
            with transaction.atomic():
                before = key_table_counts()
                response = case.call(headers=headers)
                if connection.needs_rollback:
                    raise AssertionError(
                        f"{case.method} {case.formatted_path} left the transaction broken "
                        f"({response.status_code} {response.text[:300]})\n"
                        f"Reproduce: {case.as_curl_command(headers=headers)}"
                    )
                statuses[response.status_code] += 1
                after = key_table_counts()
                transaction.set_rollback(True)
            case.validate_response(response, checks=CHECKS, headers=headers)
            if 400 <= response.status_code < 500 and after != before:
                changed = {t: (b, a) for t, b, a in zip(KEY_TABLES, before, after, strict=True) if a != b}
                raise AssertionError(
                    f"{case.method} {case.formatted_path} answered {response.status_code} but wrote {changed}:"
                    f" {response.text[:300]}\nReproduce: {case.as_curl_command(headers=headers)}"
                )

        try:
            send()
        except Exception as exc:  # collected: every operation is still fuzzed
            where = (
                "".join(traceback.format_exception(exc, limit=-3))
                if not isinstance(exc, AssertionError)
                else ""
            )
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}\n{where}")
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(
            f"schema fuzzing ({run}): {cases} cases in {elapsed:.0f} s, seed {run_seed}; "
            f"statuses {dict(sorted(statuses.items()))}"
        )
    assert failures == [], f"seed {run_seed} (FUZZ_SEED={run_seed} to replay):\n" + "\n\n".join(failures)


def _collection_of_id(path: str) -> str | None:
    parts = path.strip("/").split("/")
    return parts[parts.index("{id}") - 1] if "{id}" in parts else None
