"""audit_record: one event per change, in the change's transaction, with who/what/where."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from celery import shared_task
from django.db import transaction

from accounts.errors import MembershipConflict
from accounts.models import Company
from accounts.services import company_create, company_update, membership_change_role
from accounts.tests.factories import CompanyFactory, MembershipFactory, UserFactory
from audit.context import audit_context, system_actor
from audit.models import AuditEvent, AuditPendingSeal, AuditSeal
from audit.sealing import in_process_sealer
from audit.services import audit_record, canonical_content, sign, verify_audit_chain
from sofinance.permissions import Role

pytestmark = pytest.mark.django_db


def test_company_update_records_exactly_one_event_with_before_and_after():
    # given
    owner = UserFactory(username="olivia")
    company = CompanyFactory(name="Acme Ltd", currency="USD", fiscal_year_start=1)
    # when
    with audit_context(ip="203.0.113.7", user_agent="pytest-agent", request_id="req-0001"):
        company_update(company=company, by=owner, name="Acme Holdings", fiscal_year_start=4)
    # then
    event = AuditEvent.objects.get()
    assert event.action == "update"
    assert event.company_id == company.pk
    assert (event.actor_type, event.actor_id, event.actor_repr) == ("user", owner.pk, "olivia")
    assert (event.object_type, event.object_id, event.object_repr) == (
        "accounts.company",
        str(company.pk),
        "Acme Holdings",
    )
    assert event.changes == {
        "fiscal_year_start": {"before": 1, "after": 4},
        "name": {"before": "Acme Ltd", "after": "Acme Holdings"},
    }
    assert (event.request_id, event.ip, event.user_agent) == ("req-0001", "203.0.113.7", "pytest-agent")
    assert event.signature == sign(canonical_content(event))
    # written, signed, waiting for its seal: the seal comes after commit, never inside the writer
    assert AuditPendingSeal.objects.get().event_id == event.pk
    assert not AuditSeal.objects.exists()


def test_membership_role_change_records_the_role_before_and_after():
    # given
    admin = UserFactory(username="ada")
    company = CompanyFactory()
    MembershipFactory(company=company, user=admin, role=Role.ADMIN)
    member = MembershipFactory(company=company, role=Role.CLERK)
    # when
    membership_change_role(membership=member, role=Role.ACCOUNTANT, by=admin)
    # then
    event = AuditEvent.objects.get()
    assert (event.action, event.company_id, event.actor_repr) == ("update", company.pk, "ada")
    assert (event.object_type, event.object_id) == ("accounts.membership", str(member.pk))
    assert event.changes == {"role": {"before": "clerk", "after": "accountant"}}


def test_rolled_back_write_records_no_event_and_schedules_no_seal(django_capture_on_commit_callbacks):
    # given
    owner = UserFactory()
    company = CompanyFactory(name="Acme Ltd")
    # when
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        company_update(company=company, by=owner, name="Never Saved")
        raise RuntimeError("the caller's transaction fails after the service returned")
    # then
    assert AuditEvent.objects.count() == 0
    assert AuditPendingSeal.objects.count() == 0
    assert callbacks == []
    assert Company.objects.get(pk=company.pk).name == "Acme Ltd"


def test_refused_service_call_records_nothing():
    # given: the company's only admin
    company = CompanyFactory()
    only_admin = MembershipFactory(company=company, role=Role.ADMIN)
    # when
    with pytest.raises(MembershipConflict):
        membership_change_role(membership=only_admin, role=Role.VIEWER, by=only_admin.user)
    # then
    assert AuditEvent.objects.count() == 0
    only_admin.refresh_from_db()
    assert only_admin.role == Role.ADMIN


def test_one_transaction_schedules_one_seal_per_chain_and_the_seal_chains_its_events(
    django_capture_on_commit_callbacks,
):
    # given
    creator = UserFactory(username="carla")
    # when: company_create records two events (company, membership) in one transaction
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        company = company_create(name="Chained Ltd", currency="EUR", created_by=creator)
    # then
    assert len(callbacks) == 1
    assert f"company:{company.pk}" in in_process_sealer.pending()
    in_process_sealer.flush()  # the sealer's round (a thread in `make run`; the test decides when)
    events = list(AuditEvent.objects.filter(company_id=company.pk).order_by("pk"))
    assert [e.object_type for e in events] == ["accounts.company", "accounts.membership"]
    assert [AuditSeal.objects.get(event=e).seq for e in events] == [1, 2]
    assert not AuditPendingSeal.objects.exists()
    result = verify_audit_chain(company_id=company.pk)
    assert (result.ok, result.events_checked) == (True, 2)


def test_a_named_system_actor_and_its_correlation_id_are_recorded():
    # when
    with system_actor("command:load_demo"):
        first = audit_record(action="import", company=7, object_type="tests.batch", object_id=1)
        second = audit_record(action="import", company=7, object_type="tests.batch", object_id=2)
    outside = audit_record(action="import", company=7, object_type="tests.batch", object_id=3)
    # then
    assert (first.actor_type, first.actor_id, first.actor_repr) == ("system", None, "command:load_demo")
    assert len(first.request_id) == 32
    assert second.request_id == first.request_id
    assert (outside.actor_repr, outside.request_id) == ("system", "")


def test_system_actor_works_as_a_decorator():
    @system_actor("command:rebuild")
    def rebuild():
        return audit_record(action="rebuild", company=7)

    assert rebuild().actor_repr == "command:rebuild"
    assert rebuild().actor_repr == "command:rebuild"  # reusable: a fresh context each call


@shared_task(name="audit.tests.record_import")
def record_import(company_id: int) -> int:
    return audit_record(action="import", company=company_id, object_type="tests.batch").pk


def test_a_celery_task_names_itself_as_the_actor():
    # when (tasks run eagerly in the test settings)
    event_id = record_import.delay(company_id=7).get()
    # then
    event = AuditEvent.objects.get(pk=event_id)
    assert (event.actor_type, event.actor_repr) == ("system", "task:audit.tests.record_import")
    assert event.request_id != ""
    assert audit_record(action="import", company=7).actor_repr == "system"  # the name does not leak


def test_the_request_user_is_read_when_the_event_is_recorded():
    # given: the middleware bound the request before authentication (DRF authenticates later)
    request = SimpleNamespace(user=SimpleNamespace(is_authenticated=False))
    user = UserFactory(username="late")
    with audit_context(request=request):
        anonymous = audit_record(action="export", company=7)
        request.user = user  # what DRF's JWT authentication does
        authenticated = audit_record(action="export", company=7)
    # then
    assert (anonymous.actor_type, anonymous.actor_repr) == ("anonymous", "anonymous")
    assert (authenticated.actor_type, authenticated.actor_id, authenticated.actor_repr) == (
        "user",
        user.pk,
        "late",
    )


def test_an_ipv6_address_is_stored_as_the_database_returns_it_so_the_signature_holds():
    # when
    with audit_context(ip="2001:DB8:0:0:0:0:0:1"):
        event = audit_record(action="export", company=7)
    # then
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.ip == "2001:db8::1"
    assert stored.signature == sign(canonical_content(stored))
    assert verify_audit_chain(company_id=7).ok


def test_long_values_are_cut_before_signing():
    # when
    event = audit_record(action="update", company=7, object_type="tests.x", object_id="9" * 100)
    # then
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.object_id == "9" * 64
    assert stored.signature == sign(canonical_content(stored))


def test_with_audit_logging_off_events_go_to_the_log_only(settings, caplog):
    # given
    settings.ENABLE_AUDIT_LOGGING = False
    caplog.set_level(logging.INFO, logger="sofinance.audit")
    owner = UserFactory(username="olivia")
    company = CompanyFactory(name="Acme Ltd")
    # when
    company_update(company=company, by=owner, name="Logged Only")
    # then
    assert AuditEvent.objects.count() == 0
    assert AuditPendingSeal.objects.count() == 0
    logged = [
        r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg.get("event") == "audit_event"
    ]
    assert len(logged) == 1
    line = logged[0]
    assert (line["action"], line["company_id"], line["actor"], line["object_type"]) == (
        "update",
        company.pk,
        "olivia",
        "accounts.company",
    )
    assert line["changes"] == {"name": {"before": "Acme Ltd", "after": "Logged Only"}}
    assert Company.objects.get(pk=company.pk).name == "Logged Only"  # the change itself is not affected


@pytest.mark.django_db
def test_events_built_together_share_their_writer_and_are_each_signed():
    # given: one writer building three events at once, as a bulk post does
    from audit.services import EventItem, audit_events_build

    items = [
        EventItem(
            action="post",
            object_type="ledger.journalentry",
            object_id=n,
            object_repr=f"JE-{n}",
            changes={"n": n},
        )
        for n in range(3)
    ]
    with audit_context(request_id="req-1", ip="192.0.2.7", user_agent="bulk-client"):
        events = audit_events_build(items, actor_name="importer")
    # then: one actor, clock and request for all; each its own uid and a valid signature
    assert {(e.actor_type, e.actor_repr, e.created_at, e.request_id, e.ip, e.user_agent) for e in events} == {
        ("system", "importer", events[0].created_at, "req-1", "192.0.2.7", "bulk-client")
    }
    assert len({e.uid for e in events}) == 3
    assert [e.object_id for e in events] == ["0", "1", "2"]
    assert all(e.signature == sign(canonical_content(e)) for e in events)
