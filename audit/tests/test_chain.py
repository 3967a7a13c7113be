"""Sealing and verification: what the chain detects, and how sealing is scheduled."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from audit import sealing
from audit.models import GENESIS_HASH, AuditChainHead, AuditEvent, AuditPendingSeal, AuditSeal
from audit.services import audit_chains_seal, audit_record, verify_audit_chain
from audit.signing import canonical_content, head_signature, link_hash
from audit.tasks import audit_seal_chains
from audit.tests.helpers import forge_event, record_and_seal, record_events, triggers_disabled

pytestmark = pytest.mark.django_db

EVENTS = "audit_auditevent"
SEALS = "audit_auditseal"
HEADS = "audit_auditchainhead"


def test_sealing_chains_each_companys_events_in_id_order():
    # given
    a = record_events(company_id=501, count=3)
    g = record_events(company_id=None, count=2)
    # when
    sealed = audit_chains_seal()
    # then
    assert sealed == {"company:501": 3, "global": 2}
    seals = list(AuditSeal.objects.filter(chain="company:501").order_by("seq"))
    assert [(s.seq, s.event_id) for s in seals] == [(1, a[0].pk), (2, a[1].pk), (3, a[2].pk)]
    assert [s.prev_hash for s in seals] == [GENESIS_HASH, seals[0].hash, seals[1].hash]
    assert list(
        AuditSeal.objects.filter(chain="global").order_by("seq").values_list("event_id", flat=True)
    ) == [
        g[0].pk,
        g[1].pk,
    ]
    head = AuditChainHead.objects.get(chain="company:501")
    assert (head.last_seq, head.last_hash, head.last_event_id) == (3, seals[2].hash, a[2].pk)
    assert not AuditPendingSeal.objects.exists()
    assert audit_chains_seal() == {}  # nothing left: a second run seals nothing twice
    result = verify_audit_chain()
    assert (result.ok, result.events_checked, [c.chain for c in result.chains]) == (
        True,
        5,
        ["global", "company:501"],
    )


def test_events_not_sealed_yet_are_checked_by_signature_and_reported():
    # given
    record_and_seal(company_id=502, count=2)
    record_events(company_id=502, count=1)
    # when
    result = verify_audit_chain(company_id=502)
    # then
    (chain,) = result.chains
    assert (chain.ok, chain.sealed_events, chain.unsealed_events, chain.head_seq) == (True, 2, 1, 2)


def test_a_row_forged_by_raw_sql_is_detected_and_named():
    # given
    record_and_seal(company_id=503, count=2)
    forged_id = forge_event(company_id=503)
    # when
    result = verify_audit_chain(company_id=503)
    # then
    assert result.ok is False
    assert (result.broken_event_id, result.reason) == (forged_id, "signature_mismatch")
    assert str(forged_id) in result.detail


def test_a_forged_row_that_reaches_the_chain_is_still_detected():
    # given: the forger also queued it, and the sealer chained it
    record_and_seal(company_id=504, count=2)
    forged_id = forge_event(company_id=504)
    AuditPendingSeal.objects.create(event_id=forged_id, chain="company:504")
    audit_chains_seal()
    assert AuditSeal.objects.get(event_id=forged_id).seq == 3
    # when
    result = verify_audit_chain(company_id=504)
    # then
    assert (result.ok, result.broken_event_id, result.reason) == (False, forged_id, "signature_mismatch")


def test_a_copied_signature_does_not_make_a_forged_row_valid():
    # given
    (real,) = record_and_seal(company_id=505, count=1)
    forged_id = forge_event(company_id=505, signature=real.signature)
    # when
    result = verify_audit_chain(company_id=505)
    # then
    assert (result.ok, result.broken_event_id, result.reason) == (False, forged_id, "signature_mismatch")


def test_an_event_changed_with_the_trigger_disabled_is_detected():
    # given
    _first, second, _third = record_and_seal(company_id=506, count=3)
    # when
    with triggers_disabled(EVENTS), connection.cursor() as cursor:
        cursor.execute(
            """UPDATE audit_auditevent SET changes = '{"quantity": {"before": 2, "after": 99}}' WHERE id = %s""",
            [second.pk],
        )
    # then
    result = verify_audit_chain(company_id=506)
    assert (result.ok, result.broken_event_id, result.reason) == (False, second.pk, "signature_mismatch")
    assert result.chains[0].events_checked == 1  # stopped at the first broken event


def test_an_event_deleted_from_the_middle_is_detected_at_the_next_one():
    # given
    _first, second, third = record_and_seal(company_id=507, count=3)
    # when
    with triggers_disabled(EVENTS, SEALS), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditseal WHERE event_id = %s", [second.pk])
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [second.pk])
    # then
    result = verify_audit_chain(company_id=507)
    assert (result.ok, result.broken_event_id, result.reason) == (False, third.pk, "seq_gap")


def test_events_deleted_from_the_end_are_detected_by_the_head():
    # given
    _first, _second, third = record_and_seal(company_id=508, count=3)
    # when
    with triggers_disabled(EVENTS, SEALS), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditseal WHERE event_id = %s", [third.pk])
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [third.pk])
    # then
    result = verify_audit_chain(company_id=508)
    assert (result.ok, result.broken_event_id, result.reason) == (False, third.pk, "head_mismatch")


def test_a_head_rewound_to_hide_a_truncation_is_detected():
    # given: the tail removed, and the head rewritten to the new last seal without the key
    _first, second, third = record_and_seal(company_id=509, count=3)
    second_hash = AuditSeal.objects.get(event=second).hash
    with triggers_disabled(EVENTS, SEALS, HEADS), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditseal WHERE event_id = %s", [third.pk])
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [third.pk])
        cursor.execute(
            "UPDATE audit_auditchainhead SET last_seq = 2, last_hash = %s, last_event_id = %s WHERE chain = %s",
            [second_hash, second.pk, "company:509"],
        )
    # when
    result = verify_audit_chain(company_id=509)
    # then
    assert (result.ok, result.broken_event_id, result.reason) == (False, second.pk, "head_signature_mismatch")


def test_reordered_seals_are_detected():
    # given
    _first, second, third = record_and_seal(company_id=510, count=3)
    # when: the seals of the second and third events swap places
    with triggers_disabled(SEALS), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditseal SET seq = 100 WHERE event_id = %s", [second.pk])
        cursor.execute("UPDATE audit_auditseal SET seq = 2 WHERE event_id = %s", [third.pk])
        cursor.execute("UPDATE audit_auditseal SET seq = 3 WHERE event_id = %s", [second.pk])
    # then
    result = verify_audit_chain(company_id=510)
    assert (result.ok, result.broken_event_id, result.reason) == (False, third.pk, "prev_hash_mismatch")


def test_recomputed_links_after_a_deletion_do_not_verify_without_the_key():
    # given: the second event removed and the third re-linked, with SHA-256 chaining's public recipe
    first, second, third = record_and_seal(company_id=511, count=3)
    first_hash = AuditSeal.objects.get(event=first).hash
    with triggers_disabled(EVENTS, SEALS), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditseal WHERE event_id = %s", [second.pk])
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [second.pk])
        forged_link = link_hash(
            chain="company:511",
            seq=2,
            prev_hash=first_hash,
            signature=third.signature,
            content=canonical_content(AuditEvent.objects.get(pk=third.pk)),
            key=b"not-the-key",
        )
        cursor.execute(
            "UPDATE audit_auditseal SET seq = 2, prev_hash = %s, hash = %s WHERE event_id = %s",
            [first_hash, forged_link, third.pk],
        )
    # when
    result = verify_audit_chain(company_id=511)
    # then
    assert (result.ok, result.broken_event_id, result.reason) == (False, third.pk, "hash_mismatch")


def test_a_seal_past_the_head_is_detected():
    # given
    record_and_seal(company_id=512, count=1)
    (extra,) = record_events(company_id=512, count=1)
    head = AuditChainHead.objects.get(chain="company:512")
    AuditSeal.objects.create(
        event=extra, chain="company:512", company_id=512, seq=2, prev_hash=head.last_hash, hash="a" * 64
    )
    # when
    result = verify_audit_chain(company_id=512)
    # then
    assert (result.ok, result.broken_event_id, result.reason) == (False, extra.pk, "seal_beyond_head")


def test_a_seal_moved_into_another_companys_chain_is_detected():
    # given
    record_and_seal(company_id=514, count=2)
    (stranger,) = record_and_seal(company_id=515, count=1)
    head = AuditChainHead.objects.get(chain="company:514")
    # when: the other company's event is re-sealed as the third link of this chain
    with triggers_disabled(SEALS), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditseal SET chain = 'company:514', seq = 3, prev_hash = %s WHERE event_id = %s",
            [head.last_hash, stranger.pk],
        )
    # then
    result = verify_audit_chain(company_id=514)
    assert (result.ok, result.broken_event_id, result.reason) == (False, stranger.pk, "wrong_chain")


def test_an_intact_chain_with_a_valid_head_signature_verifies():
    record_and_seal(company_id=513, count=2)
    head = AuditChainHead.objects.get(chain="company:513")
    assert head.signature == head_signature(
        chain=head.chain, last_seq=2, last_hash=head.last_hash, last_event_id=head.last_event_id
    )
    assert verify_audit_chain(company_id=513).ok


def test_an_empty_company_chain_verifies():
    result = verify_audit_chain(company_id=999)
    assert (result.ok, result.events_checked, result.chains[0].chain) == (True, 0, "company:999")


# --------------------------------------------------------------------------- scheduling


def test_a_transaction_schedules_one_seal_per_chain(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for _ in range(3):
            audit_record(action="update", company=520)
        audit_record(action="update", company=521)
        audit_record(action="update", company=520)
    assert sorted(cb.audit_seal_chain for cb in callbacks) == ["company:520", "company:521"]


def test_a_rolled_back_savepoint_does_not_take_the_transactions_seal_with_it(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            audit_record(action="update", company=522)
            raise RuntimeError("inner failure")
        kept = audit_record(action="update", company=522)
    assert len(callbacks) == 1
    assert "company:522" in sealing.in_process_sealer.pending()  # the commit asked for its seal
    sealing.in_process_sealer.flush()
    assert list(AuditSeal.objects.filter(chain="company:522").values_list("event_id", "seq")) == [
        (kept.pk, 1)
    ]
    assert AuditEvent.objects.filter(company_id=522).count() == 1


@pytest.fixture
def broker_mode(monkeypatch):
    """Scheduling as with a real broker: the queued tasks are collected, not run."""
    queued = []
    monkeypatch.setattr(sealing, "_tasks_run_eagerly", lambda: False)
    monkeypatch.setattr(
        audit_seal_chains,
        "apply_async",
        lambda kwargs=None, countdown=None: queued.append((kwargs, countdown)),
    )
    cache.delete(sealing.SEAL_DEBOUNCE_KEY.format(chain="company:530"))
    sealing._queued_until.clear()
    sealing._late_until.clear()
    yield queued
    cache.delete(sealing.SEAL_DEBOUNCE_KEY.format(chain="company:530"))
    sealing._queued_until.clear()
    sealing._late_until.clear()


def redis_asked(monkeypatch) -> list[str]:
    """What the sealing asks the cache from now on ("add", "get"), in order."""
    asked: list[str] = []
    for name in ("add", "get"):
        real = getattr(sealing.cache, name)
        monkeypatch.setattr(
            sealing.cache, name, lambda *a, _n=name, _r=real, **k: asked.append(_n) or _r(*a, **k)
        )
    return asked


def test_with_a_broker_a_burst_of_commits_queues_one_delayed_seal(broker_mode, settings, monkeypatch):
    settings.AUDIT_SEAL_DELAY = 2.0
    clock = [1000.0]
    monkeypatch.setattr(sealing.time, "monotonic", lambda: clock[0])
    # when: three commits in a row
    for _ in range(3):
        sealing._seal_after_commit("company:530")
    # then
    assert broker_mode == [({"chain": "company:530"}, 2.0)]
    # when: the countdown passes, the task starts (it clears the key before reading), and a
    # later commit queues again
    clock[0] += 2.0
    sealing.clear_seal_debounce("company:530")
    sealing._seal_after_commit("company:530")
    assert len(broker_mode) == 2


def test_with_a_broker_commits_during_the_countdown_need_no_redis_round_trip(
    broker_mode, settings, monkeypatch
):
    settings.AUDIT_SEAL_DELAY = 2.0
    clock = [2000.0]
    monkeypatch.setattr(sealing.time, "monotonic", lambda: clock[0])
    sealing._seal_after_commit("company:530")
    # when: later commits of the same process before the queued seal's countdown ends
    calls = []
    monkeypatch.setattr(sealing.cache, "add", lambda *args, **kwargs: calls.append(args) or False)
    clock[0] += 1.9
    sealing._seal_after_commit("company:530")
    # then: they are read by the queued seal; Redis is not asked
    assert calls == [] and len(broker_mode) == 1
    # and after the countdown Redis decides again
    clock[0] += 0.2
    sealing._seal_after_commit("company:530")
    assert len(calls) == 1


def test_with_a_broker_another_process_s_queued_seal_spares_this_process_the_round_trips(
    broker_mode, settings, monkeypatch
):
    # given: another process queued the chain's seal (its key says when the seal starts)
    settings.AUDIT_SEAL_DELAY = 2.0
    wall, clock = [5000.0], [300.0]
    monkeypatch.setattr(sealing.time, "time", lambda: wall[0])
    monkeypatch.setattr(sealing.time, "monotonic", lambda: clock[0])
    cache.set(sealing.SEAL_DEBOUNCE_KEY.format(chain="company:530"), 5002.0, timeout=60)
    asked = redis_asked(monkeypatch)
    # when: this process commits: it finds the seal queued and learns when it starts
    sealing._seal_after_commit("company:530")
    assert (asked, broker_mode) == (["add", "get"], [])
    # then: its commits until shortly before that start ask Redis nothing
    asked.clear()
    for step in (0.5, 1.0, 0.2):  # 1.7 s later: still 0.3 s before the start, beyond the margin
        wall[0] += step
        clock[0] += step
        sealing._seal_after_commit("company:530")
    assert (asked, broker_mode) == ([], [])
    # and within the margin of the start (another host's clock may run ahead) Redis decides again
    wall[0] += 0.1
    clock[0] += 0.1
    sealing._seal_after_commit("company:530")
    assert asked == ["add", "get"]


def test_with_a_broker_a_late_seal_costs_one_round_trip_per_commit_as_before(
    broker_mode, settings, monkeypatch
):
    # given: a seal queued by another process whose start has passed (its worker is busy)
    settings.AUDIT_SEAL_DELAY = 2.0
    wall, clock = [6000.0], [400.0]
    monkeypatch.setattr(sealing.time, "time", lambda: wall[0])
    monkeypatch.setattr(sealing.time, "monotonic", lambda: clock[0])
    cache.set(sealing.SEAL_DEBOUNCE_KEY.format(chain="company:530"), 5990.0, timeout=60)
    asked = redis_asked(monkeypatch)
    # when: commits in the next two seconds
    for _ in range(3):
        sealing._seal_after_commit("company:530")
        clock[0] += 0.5
        wall[0] += 0.5
    # then: each still asks whether a seal is queued (it may start any moment), and when it
    # starts only once
    assert (asked, broker_mode) == (["add", "get", "add", "add"], [])
    # and after the delay it asks when again
    asked.clear()
    clock[0] += 0.6
    wall[0] += 0.6
    sealing._seal_after_commit("company:530")
    assert asked == ["add", "get"]


def test_with_the_broker_down_the_commit_still_succeeds_and_beat_seals_later(monkeypatch, caplog):
    monkeypatch.setattr(sealing, "_tasks_run_eagerly", lambda: False)

    def broker_down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(audit_seal_chains, "apply_async", broker_down)
    cache.delete(sealing.SEAL_DEBOUNCE_KEY.format(chain="company:531"))
    # when
    sealing._seal_after_commit("company:531")
    # then: no error, a warning, and the key is released so the next commit tries again
    assert cache.get(sealing.SEAL_DEBOUNCE_KEY.format(chain="company:531")) is None
    warnings = [r.msg for r in caplog.records if isinstance(r.msg, dict)]
    assert {"event": "audit_seal_not_scheduled", "chain": "company:531"}.items() <= warnings[-1].items()


def test_with_the_cache_down_the_commit_still_succeeds_and_beat_seals_later(monkeypatch, caplog):
    # given: the broker mode, and a cache whose server is out of reach
    queued = []
    monkeypatch.setattr(sealing, "_tasks_run_eagerly", lambda: False)
    monkeypatch.setattr(audit_seal_chains, "apply_async", lambda **kwargs: queued.append(kwargs))
    sealing._queued_until.clear()

    def cache_down(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(sealing.cache, "add", cache_down)
    # when
    sealing._seal_after_commit("company:533")
    # then: no error, a warning; nothing queued (the beat schedule seals the pending events)
    assert queued == []
    warnings = [r.msg for r in caplog.records if isinstance(r.msg, dict)]
    assert {"event": "audit_seal_not_scheduled", "reason": "cache unavailable"}.items() <= warnings[
        -1
    ].items()


@pytest.mark.django_db(transaction=True)
def test_a_seal_that_fails_after_the_commit_leaves_the_committed_write_alone(monkeypatch):
    # given: scheduling the seal fails (whatever the reason)
    def failing(chain):
        raise RuntimeError("cannot schedule")

    monkeypatch.setattr(sealing, "_seal_after_commit", failing)
    # when: a transaction records an event and commits
    with transaction.atomic():
        event = audit_record(action="update", company=534)
    # then: the commit stands and no error escapes (Django's robust on_commit logs it)
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert AuditPendingSeal.objects.filter(event_id=event.pk).exists()


def test_the_beat_task_seals_every_chain_with_pending_events():
    record_events(company_id=540, count=2)
    record_events(company_id=None, count=1)
    assert audit_seal_chains.delay().get() == {"company:540": 2, "global": 1}
    assert not AuditPendingSeal.objects.exists()


def test_content_of_every_kind_survives_the_database_and_verifies():
    # given: decimals, dates, unicode, escapes, big integers, nesting
    event = audit_record(
        action="post",
        company=550,
        object_type="ledger.journalentry",
        object_id=42,
        object_repr="Café ✓ — JE-2026-000042",
        changes={
            "amount": {"before": Decimal("1250.00"), "after": Decimal("0.10")},
            "date": {"before": datetime.date(2026, 3, 31), "after": None},
            "note": {"before": 'tab\there "quoted" \\ back\nline', "after": "日本語"},
            "lines": {"before": [1, 2, {"z": 1, "a": [True, False, None]}], "after": []},
            "big": {"before": 12345678901234567890, "after": -1},
        },
        metadata={"émoji": "🧾", "nested": {"b": 2, "a": 1}},
    )
    audit_chains_seal()
    # then
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.changes["amount"] == {"before": "1250.00", "after": "0.10"}
    assert stored.changes["date"] == {"before": "2026-03-31", "after": None}
    result = verify_audit_chain(company_id=550)
    assert (result.ok, result.chains[0].sealed_events) == (True, 1)


def test_an_event_queued_in_the_wrong_chain_is_moved_to_its_own():
    # given: a pending row pointing at another company's chain (not something audit_record writes)
    (event,) = record_events(company_id=560, count=1)
    AuditPendingSeal.objects.filter(event=event).update(chain="company:561")
    # when
    first = audit_chains_seal()
    second = audit_chains_seal()
    # then
    assert first == {"company:561": 0}
    assert second == {"company:560": 1}
    assert AuditSeal.objects.get(event=event).chain == "company:560"
    assert not AuditSeal.objects.filter(chain="company:561").exists()
