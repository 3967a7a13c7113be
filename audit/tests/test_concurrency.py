"""Concurrent writers of one company: none waits on the chain, and the chain still verifies."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from accounts.services import account_create
from accounts.tests.factories import CompanyFactory, UserFactory
from audit.models import AuditChainHead, AuditEvent, AuditPendingSeal, AuditSeal
from audit.services import audit_chains_seal, verify_audit_chain

WRITERS = 8
WRITES_EACH = 6


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_writers_produce_a_gapless_chain_that_verifies():
    # given
    company = CompanyFactory(name="Busy Ltd")
    users = [UserFactory() for _ in range(WRITERS)]
    start = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait(timeout=30)
            for i in range(WRITES_EACH):
                account_create(
                    company=company,
                    code=f"{1000 + n * 100 + i}",
                    name=f"Writer {n} account {i}",
                    type="asset",
                    by=users[n],
                )
                # each writer then seals its chain itself: writers and sealers race
                audit_chains_seal(chain=f"company:{company.pk}")
        except BaseException as exc:  # collected and asserted below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # then
    assert failures == []
    assert not any(thread.is_alive() for thread in threads)
    total = WRITERS * WRITES_EACH
    event_ids = set(AuditEvent.objects.filter(company_id=company.pk).values_list("pk", flat=True))
    assert len(event_ids) == total
    seals = list(AuditSeal.objects.filter(chain=f"company:{company.pk}").order_by("seq"))
    assert [s.seq for s in seals] == list(range(1, total + 1))  # gapless, no duplicates
    assert {s.event_id for s in seals} == event_ids  # every event sealed, exactly once
    assert not AuditPendingSeal.objects.exists()
    assert AuditChainHead.objects.get(chain=f"company:{company.pk}").last_seq == total
    assert {e.actor_id for e in AuditEvent.objects.filter(company_id=company.pk)} == {u.pk for u in users}
    result = verify_audit_chain(company_id=company.pk)
    assert (result.ok, result.events_checked, result.chains[0].sealed_events) == (True, total, total)
