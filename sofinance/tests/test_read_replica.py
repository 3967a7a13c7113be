"""Reads on a real streaming replica: a second PostgreSQL cluster made with pg_basebackup from a
primary cluster of its own (both started here, on free ports, in temporary folders), then the
application run against the pair in a subprocess: reports read from the replica, a user's reads
follow their own write to the primary while the replica lags, a lagging replica and a stopped one
send every read to the primary."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bench.clusters import PostgresCluster, pg_bin, private_folder

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        pg_bin() is None or not shutil.which("pg_basebackup"), reason="PostgreSQL server binaries"
    ),
]


@pytest.fixture(scope="module")
def clusters():
    base = private_folder("sofinance-replica-")
    primary = PostgresCluster(base, "primary")
    replica = PostgresCluster(base, "replica")
    try:
        primary.init("wal_level = replica\nmax_wal_senders = 4\nfsync = off\n")
        primary.allow_replication()
        primary.start()
        replica.basebackup_of(primary, "hot_standby = on\n")
        replica.start()
        yield {"primary": primary.port, "replica": replica.port, "stop_replica": replica.stop_command("fast")}
    finally:
        replica.stop()
        primary.stop()
        shutil.rmtree(base, ignore_errors=True)


SCENARIO = textwrap.dedent(
    """
    import datetime, json, subprocess, sys, time
    import django
    from django.core.management import call_command
    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connections
    from django.test import Client
    from accounts.services import company_create, user_create
    from accounts.services import membership_add
    from sofinance.api.jwt import issue_token_pair
    from sofinance.db_router import health

    reads = {"default": 0, "replica": 0}
    def counting(alias):
        def wrapper(execute, sql, params, many, context):
            if sql.lstrip().upper().startswith("SELECT"):
                reads[alias] += 1
            return execute(sql, params, many, context)
        return wrapper
    for alias in reads:
        connections[alias].execute_wrappers.append(counting(alias))

    owner = user_create(username="owner", email="owner@example.com", password=None)
    other = user_create(username="other", email="other@example.com", password=None)
    company = company_create(name="Replica Ltd", currency="USD", created_by=owner, chart_template="small_business")
    membership_add(company=company, user=other, role="viewer", by=owner)
    def client(user):
        c = Client(HTTP_HOST="localhost")
        c.defaults["HTTP_AUTHORIZATION"] = "Bearer " + issue_token_pair(user_id=user.pk)["access"]
        return c
    as_owner, as_other = client(owner), client(other)
    base = f"/api/v1/companies/{company.pk}"
    entry = {"date": "2026-03-02", "post": True,
             "lines": [{"account": "6100", "debit": "10.00"}, {"account": "1000", "credit": "10.00"}]}
    time.sleep(1.5)  # the replica catches up with the setup
    out = {}

    # 1. a report is read from the replica
    before = dict(reads)
    r = as_other.get(f"{base}/reports/trial-balance", {"as_of": "2026-12-31"})
    out["report_status"] = r.status_code
    out["report_replica_reads"] = reads["replica"] - before["replica"]

    # 2. the replica lags: the writer still sees their write, someone else does not (yet)
    replica = connections["replica"]
    # a fresh commit the replica has replayed: the lag is then counted from now, not from the setup
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT txid_current()")
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        lsn = cursor.fetchone()[0]
    with replica.cursor() as cursor:
        for _ in range(200):
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn])
            if cursor.fetchone()[0]:
                break
            time.sleep(0.05)
        cursor.execute("SELECT pg_wal_replay_pause()")
    health.forget()
    r = as_owner.post(f"{base}/journal-entries", json.dumps(entry), content_type="application/json")
    out["post_status"] = r.status_code
    out["owner_sees"] = len(as_owner.get(f"{base}/journal-entries").json()["data"])
    out["other_sees_while_lagging"] = len(as_other.get(f"{base}/journal-entries").json()["data"])

    # 3. once the lag passes REPLICA_MAX_LAG_SECONDS, every read goes to the primary
    time.sleep(4)
    health.forget()
    out["other_sees_after_max_lag"] = len(as_other.get(f"{base}/journal-entries").json()["data"])
    with replica.cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_resume()")
    replica.close()

    # 4. the replica stops: reads fall back to the primary
    subprocess.run(sys.argv[1:], check=True, capture_output=True)
    health.forget()
    before = dict(reads)
    r = as_other.get(f"{base}/reports/trial-balance", {"as_of": "2026-12-31"})
    out["down_status"] = r.status_code
    out["down_primary_reads"] = reads["default"] - before["default"]
    out["down_debit"] = r.json()["data"]["totals"]["debit"]
    print("RESULT " + json.dumps(out))
    """
)


def test_reads_follow_the_replica_its_lag_and_its_absence(clusters, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sofinance.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{clusters['primary']}/postgres",
        "DATABASE_REPLICA_URL": f"postgres://postgres@127.0.0.1:{clusters['replica']}/postgres",
        "REPLICA_MAX_LAG_SECONDS": "3",
        "REPLICA_READ_YOUR_WRITES_SECONDS": "30",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "CONN_MAX_AGE": "0",
        "SOFINANCE_ENV_FILE": "/dev/null",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "LOG_LEVEL": "ERROR",
    }
    stop_replica = clusters["stop_replica"]
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", SCENARIO, *stop_replica],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT "))
    import json

    out = json.loads(line.removeprefix("RESULT "))
    assert out["report_status"] == 200 and out["report_replica_reads"] > 0
    assert out["post_status"] == 201
    assert out["owner_sees"] == 1  # read-your-writes: the primary, though the replica lags
    assert out["other_sees_while_lagging"] == 0  # the replica, paused before the write
    assert out["other_sees_after_max_lag"] == 1  # too far behind: the primary
    assert out["down_status"] == 200 and out["down_primary_reads"] > 0 and out["down_debit"] == "10.00"
    assert time.monotonic() - started < 240
