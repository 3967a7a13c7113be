"""Without a broker (`make run`), a thread seals committed events shortly after their commit:
the commit never waits for the chain, and a burst of commits is sealed in one round."""

from __future__ import annotations

import math
import threading
import time

import pytest
from django.db import transaction

from audit import sealing
from audit.models import AuditEvent, AuditPendingSeal, AuditSeal
from audit.services import audit_record, verify_audit_chain

COMPANY = 770


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_commits_is_sealed_by_the_thread_in_few_rounds(settings, monkeypatch):
    # given: the thread mode of `make run`, with a short delay
    settings.AUDIT_SEALER = "thread"
    settings.AUDIT_SEAL_DELAY = 1.0
    rounds: list[str] = []
    real_seal = sealing.audit_chain_seal

    def counted(*, chain: str, **kwargs) -> int:
        rounds.append((chain, threading.current_thread().name))
        return real_seal(chain=chain, **kwargs)

    sealing.in_process_sealer.flush()  # chains other tests of this process asked for
    monkeypatch.setattr(sealing, "audit_chain_seal", counted)
    # no broker: the process has no Celery to queue seals on (whatever an earlier test left in
    # the Celery app's configuration of this process)
    monkeypatch.setattr(sealing, "_tasks_run_eagerly", lambda: True)
    # when: twenty commits in a row
    began = time.monotonic()
    for n in range(20):
        with transaction.atomic():
            audit_record(action="update", company=COMPANY, object_type="tests.widget", object_id=n)
    burst = time.monotonic() - began
    # then: shortly after, every event is sealed, by the sealer thread (never on a commit's
    # path), in about one round per AUDIT_SEAL_DELAY of the burst (one or two on a quiet machine;
    # a loaded one spreads the burst over more seconds), never one per commit
    deadline = time.monotonic() + 15
    while (
        AuditPendingSeal.objects.filter(chain=f"company:{COMPANY}").exists() and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    events = set(AuditEvent.objects.filter(company_id=COMPANY).values_list("pk", flat=True))
    sealed = set(AuditSeal.objects.filter(chain=f"company:{COMPANY}").values_list("event_id", flat=True))
    thread = sealing.in_process_sealer._thread
    assert sealed == events, (
        f"rounds={rounds} pending={sealing.in_process_sealer.pending()} "
        f"thread_alive={thread is not None and thread.is_alive()} burst={burst:.1f}s"
    )
    assert len(events) == 20
    assert 1 <= rounds.count((f"company:{COMPANY}", "audit-sealer")) <= math.ceil(burst / 1.0) + 1 < 20
    assert {thread for _, thread in rounds} == {"audit-sealer"}
    result = verify_audit_chain(company_id=COMPANY)
    assert (result.ok, result.events_checked) == (True, 20)
