"""Chain heads anchored outside the database: a wiped, rewound or rewritten trail does not verify;
TRUNCATE is refused; a head's hash moves only with the sealer."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.anchoring import ANCHOR_DIR, AnchorError, audit_heads_anchor, latest_anchor
from audit.models import AuditChainHead, AuditEvent, AuditSeal
from audit.services import verify_audit_chain
from audit.signing import head_signature
from audit.tasks import audit_anchor_heads
from audit.tests.helpers import record_and_seal, triggers_disabled
from sofinance.tests.s3 import CREDENTIALS, REGION, moto_s3_server, use_bucket

pytestmark = pytest.mark.django_db

AUDIT_TABLES = "audit_auditevent, audit_auditseal, audit_auditchainhead, audit_auditpendingseal"


def wipe_audit_trail() -> None:
    """What a database superuser can do: switch every trigger off and empty the audit tables."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(f"TRUNCATE {AUDIT_TABLES}")
        cursor.execute("SET LOCAL session_replication_role = origin")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def anchor_files(media_root: str) -> list[Path]:
    return sorted((Path(media_root) / ANCHOR_DIR).rglob("*.json"))


# --------------------------------------------------------------------------- the database's own guards


@pytest.mark.parametrize("table", ["audit_auditevent", "audit_auditseal", "audit_auditchainhead"])
def test_truncate_of_the_audit_tables_is_refused(table):
    # given
    record_and_seal(company_id=61, count=2)

    # when / then
    refused = pytest.raises(DatabaseError, match=f"audit_immutable: TRUNCATE of {table} refused")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own pending checks first
        cursor.execute(f"TRUNCATE {table} CASCADE")
    assert (AuditEvent.objects.count(), AuditSeal.objects.count(), AuditChainHead.objects.count()) == (
        2,
        2,
        1,
    )


def test_a_heads_hash_moves_only_to_one_of_its_seals():
    # given
    first, second = record_and_seal(company_id=62, count=2)
    head = AuditChainHead.objects.get(chain="company:62")
    seals = {s.seq: s for s in AuditSeal.objects.filter(chain="company:62")}

    # when / then: in place, forward to no seal, forward to a seal of another event
    statements = [
        ("UPDATE audit_auditchainhead SET last_hash = %s WHERE id = %s", ["f" * 64, head.pk]),
        ("UPDATE audit_auditchainhead SET last_event_id = %s WHERE id = %s", [first.pk, head.pk]),
        (
            "UPDATE audit_auditchainhead SET last_seq = 3, last_hash = %s WHERE id = %s",
            ["f" * 64, head.pk],
        ),
        (
            "UPDATE audit_auditchainhead SET last_seq = 3, last_hash = %s, last_event_id = %s WHERE id = %s",
            [seals[2].hash, second.pk, head.pk],
        ),
        (
            "INSERT INTO audit_auditchainhead (chain, company_id, last_seq, last_hash, last_event_id,"
            " signature, updated_at) VALUES ('company:63', 63, 5, %s, NULL, '', now())",
            ["a" * 64],
        ),
    ]
    for sql, params in statements:
        refused = pytest.raises(DatabaseError, match="audit_immutable")
        with refused, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)

    # then: untouched, and the sealer still moves it forward
    head.refresh_from_db()
    assert (head.last_seq, head.last_hash, head.last_event_id) == (2, seals[2].hash, second.pk)
    assert not AuditChainHead.objects.filter(chain="company:63").exists()
    record_and_seal(company_id=62, count=1)
    assert AuditChainHead.objects.get(chain="company:62").last_seq == 3


# --------------------------------------------------------------------------- anchors on local storage


def test_anchoring_writes_the_signed_heads_and_skips_when_nothing_moved(settings):
    # given
    a = record_and_seal(company_id=71, count=2)
    b = record_and_seal(company_id=72, count=1)

    # when
    anchor = audit_anchor_heads.apply().get()
    unchanged = audit_heads_anchor()
    record_and_seal(company_id=71, count=1)
    newer = audit_heads_anchor()

    # then
    files = anchor_files(settings.MEDIA_ROOT)
    assert len(files) == 2
    assert anchor == {"anchor": str(files[0].relative_to(settings.MEDIA_ROOT)), "chains": 2}
    assert unchanged is None
    assert newer.name == str(files[1].relative_to(settings.MEDIA_ROOT))
    today = timezone.now()
    assert files[0].parent == Path(settings.MEDIA_ROOT) / ANCHOR_DIR / f"{today:%Y}" / f"{today:%m}"
    document = json.loads(files[0].read_text())
    assert set(document) == {"version", "created_at", "chains", "signature"}
    assert document["chains"] == {
        "company:71": {"seq": 2, "hash": AuditSeal.objects.get(event=a[1]).hash, "event_id": a[1].pk},
        "company:72": {"seq": 1, "hash": AuditSeal.objects.get(event=b[0]).hash, "event_id": b[0].pk},
    }
    assert latest_anchor().name == newer.name
    assert latest_anchor().heads["company:71"].seq == 3
    # Its schedule (audit-anchor-heads) is a django-celery-beat row: jobs/tests/test_schedules.py.


def test_an_intact_trail_verifies_against_its_anchor():
    # given
    record_and_seal(company_id=73, count=3)
    anchor = audit_heads_anchor()
    record_and_seal(company_id=73, count=2)  # the chain moved on since: fine

    # when
    result = verify_audit_chain(company_id=73)

    # then
    (chain,) = result.chains
    assert (result.ok, chain.anchor, chain.anchored_seq, chain.head_seq) == (True, anchor.name, 3, 5)


def test_a_wiped_trail_does_not_verify_as_intact():
    # given: two anchored chains, then every audit table emptied by a superuser
    company_events = record_and_seal(company_id=74, count=2)
    events = record_and_seal(company_id=None, count=1)
    audit_heads_anchor()
    wipe_audit_trail()

    # when
    result = verify_audit_chain()

    # then
    assert result.ok is False
    assert [(c.chain, c.ok, c.reason, c.broken_event_id) for c in result.chains] == [
        ("global", False, "chain_missing", events[0].pk),
        ("company:74", False, "chain_missing", company_events[1].pk),
    ]
    assert "the trail was wiped" in result.detail
    with pytest.raises(CommandError, match=r"Audit chain global is broken at event \d+: chain_missing"):
        call_command("verify_audit_chain")


def test_anchoring_refuses_to_anchor_a_wiped_trail(settings):
    # given
    record_and_seal(company_id=75, count=2)
    audit_heads_anchor()
    wipe_audit_trail()

    # when
    with pytest.raises(AnchorError) as refused:
        audit_heads_anchor()

    # then: no anchor of the wiped state was written to hide it
    assert refused.value.reason == "chain_missing"
    assert len(anchor_files(settings.MEDIA_ROOT)) == 1


def test_a_tail_removed_and_the_head_re_signed_with_the_key_is_behind_its_anchor():
    # given: three anchored events; the last one removed and the head rewritten with the key
    _first, second, third = record_and_seal(company_id=76, count=3)
    audit_heads_anchor()
    second_seal = AuditSeal.objects.get(event=second)
    tables = ("audit_auditevent", "audit_auditseal", "audit_auditchainhead")
    with triggers_disabled(*tables), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditpendingseal WHERE event_id = %s", [third.pk])
        cursor.execute("DELETE FROM audit_auditseal WHERE event_id = %s", [third.pk])
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [third.pk])
        cursor.execute(
            "UPDATE audit_auditchainhead SET last_seq = 2, last_hash = %s, last_event_id = %s, signature = %s"
            " WHERE chain = 'company:76'",
            [
                second_seal.hash,
                second.pk,
                head_signature(
                    chain="company:76", last_seq=2, last_hash=second_seal.hash, last_event_id=second.pk
                ),
            ],
        )

    # when
    result = verify_audit_chain(company_id=76)

    # then
    assert (result.ok, result.reason, result.broken_event_id) == (False, "behind_anchor", third.pk)


def test_a_chain_rebuilt_with_the_key_does_not_match_its_anchor():
    # given: an anchored chain replaced by a consistent new one of the same length
    record_and_seal(company_id=77, count=2)
    audit_heads_anchor()
    wipe_audit_trail()
    rebuilt = record_and_seal(company_id=77, count=2)

    # when
    result = verify_audit_chain(company_id=77)

    # then
    assert (result.ok, result.reason, result.broken_event_id) == (False, "anchor_mismatch", rebuilt[1].pk)


def test_a_changed_anchor_file_breaks_verification(settings):
    # given
    record_and_seal(company_id=78, count=1)
    audit_heads_anchor()
    (path,) = anchor_files(settings.MEDIA_ROOT)
    document = json.loads(path.read_text())
    document["chains"]["company:78"]["seq"] = 0
    path.write_text(json.dumps(document))

    # when
    result = verify_audit_chain()

    # then
    assert (result.ok, result.reason, result.broken_event_id) == (False, "anchor_invalid", None)
    assert (
        result.detail
        == f"the audit anchor {path.relative_to(settings.MEDIA_ROOT)} does not carry a valid signature: it was changed"
    )


def test_unreadable_anchors_are_not_intact(settings, tmp_path):
    # given: the storage folder is not a folder
    record_and_seal(company_id=79, count=1)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.MEDIA_ROOT = str(blocker)

    # when
    result = verify_audit_chain(company_id=79)

    # then
    assert (result.ok, result.reason) == (False, "anchor_unavailable")
    assert result.detail.startswith("the audit anchors cannot be read from storage: NotADirectoryError")


def test_without_any_anchor_verification_is_as_before():
    record_and_seal(company_id=80, count=2)

    (chain,) = verify_audit_chain(company_id=80).chains

    assert (chain.ok, chain.anchor, chain.anchored_seq) == (True, "", None)


# --------------------------------------------------------------------------- anchors on S3 (moto, over HTTP)


@pytest.fixture(scope="module")
def s3_endpoint():
    with moto_s3_server() as endpoint:
        yield endpoint


def _client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **CREDENTIALS)


def test_anchors_on_a_bucket_with_object_lock_are_retained(settings, s3_endpoint):
    # given: a bucket created with S3 Object Lock
    bucket = f"audit-{uuid.uuid4().hex[:12]}"
    client = _client(s3_endpoint)
    client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    use_bucket(settings, endpoint=s3_endpoint, bucket=bucket)
    settings.AUDIT_ANCHOR_RETENTION_DAYS = 30
    record_and_seal(company_id=81, count=2)

    # when
    anchor = audit_heads_anchor()

    # then: written with a retention, and a version cannot be deleted before it ends
    stored = client.head_object(Bucket=bucket, Key=anchor.name)
    assert stored["ObjectLockMode"] == "GOVERNANCE"
    assert stored["ObjectLockRetainUntilDate"] == anchor.locked_until
    assert timedelta(days=29, hours=23) < anchor.locked_until - timezone.now() <= timedelta(days=30)
    version = stored["VersionId"]
    with pytest.raises(ClientError, match="AccessDenied"):
        client.delete_object(Bucket=bucket, Key=anchor.name, VersionId=version)
    assert latest_anchor().heads["company:81"].seq == 2

    # and a wiped trail is found from the bucket's anchor
    wipe_audit_trail()
    result = verify_audit_chain()
    assert [(c.chain, c.reason) for c in result.chains] == [("company:81", "chain_missing")]


def test_anchors_on_a_bucket_without_object_lock_are_plain_files(settings, s3_endpoint):
    # given
    bucket = f"audit-{uuid.uuid4().hex[:12]}"
    client = _client(s3_endpoint)
    client.create_bucket(Bucket=bucket)
    use_bucket(settings, endpoint=s3_endpoint, bucket=bucket)
    record_and_seal(company_id=82, count=1)

    # when
    anchor = audit_heads_anchor()
    result = verify_audit_chain(company_id=82)

    # then
    assert anchor.locked_until is None
    body = json.loads(client.get_object(Bucket=bucket, Key=anchor.name)["Body"].read())
    assert body["chains"]["company:82"]["seq"] == 1
    assert "ObjectLockMode" not in client.head_object(Bucket=bucket, Key=anchor.name)
    assert (result.ok, result.chains[0].anchor, result.chains[0].anchored_seq) == (True, anchor.name, 1)


def test_the_verify_endpoint_reports_the_anchor(company, make_member):
    # given: the company's chain anchored, then wiped
    _, client = make_member(company, "auditor")
    events = record_and_seal(company_id=company.pk, count=2)
    anchor = audit_heads_anchor()
    wipe_audit_trail()

    # when
    response = client.get(f"/api/v1/companies/{company.pk}/audit-events/verify")

    # then
    data = response.json()["data"]
    assert response.status_code == 200
    assert (data["ok"], data["reason"], data["broken_event_id"], data["anchor"], data["anchored_seq"]) == (
        False,
        "chain_missing",
        events[1].pk,
        anchor.name,
        2,
    )
