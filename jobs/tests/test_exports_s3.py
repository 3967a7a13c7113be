"""Exports on an S3-compatible server (moto's, over HTTP on loopback): the file lands in the bucket,
the API's download URL is pre-signed and serves exactly the file, and a retried job replaces its
file instead of adding a second one."""

from __future__ import annotations

import urllib.request
import uuid

import boto3
import pytest

from jobs.models import ExportJob
from jobs.services import export_execute, export_request
from jobs.tests.factories import books
from sofinance.permissions import Role
from sofinance.tests.s3 import CREDENTIALS, REGION, moto_s3_server, use_bucket

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def s3_endpoint():
    with moto_s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(settings, s3_endpoint):
    name = f"exports-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, **CREDENTIALS)
    client.create_bucket(Bucket=name)
    use_bucket(settings, endpoint=s3_endpoint, bucket=name)
    settings.AWS_S3_SIGNATURE_VERSION = "s3v4"  # as the settings set it with a bucket
    settings.EXPORT_URL_TTL = 120
    return name, client


def _keys(client, bucket: str, prefix: str) -> list[str]:
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def test_an_export_goes_to_the_bucket_and_downloads_through_its_presigned_url(bucket, make_member):
    # given
    name, client = bucket
    b = books()
    _, api = make_member(b.company, Role.ACCOUNTANT)
    job = export_request(
        company=b.company, by=None, kind="journal_lines", parameters={"from": "2026-01-01"}, enqueue=False
    )

    # when
    job = export_execute(export_id=job.pk)

    # then: one object, the file
    assert job.status == "done"
    assert _keys(client, name, f"exports/{b.company.pk}/{job.pk}/") == [job.file_name]
    stored = client.get_object(Bucket=name, Key=job.file_name)["Body"].read()
    assert stored.startswith(b"date,number,line,account_code") and len(stored) == job.file_size
    assert stored.count(b"\n") == job.row_count + 1
    # the API hands out a pre-signed URL, and fetching it over HTTP gives exactly the file
    data = api.get(f"/api/v1/companies/{b.company.pk}/exports/{job.pk}").json()["data"]
    url = data["download_url"]
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=120" in url
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.read() == stored
    # the download endpoint redirects to a fresh pre-signed URL
    redirect = api.get(f"/api/v1/companies/{b.company.pk}/exports/{job.pk}/download")
    assert redirect.status_code == 302 and "X-Amz-Signature=" in redirect["Location"]
    # an unsigned request for the same object is refused by the server
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(url.split("?")[0], timeout=30)


def test_a_job_run_again_after_it_stored_its_file_replaces_it(bucket):
    # given: a job whose first attempt stored its file, then died before it was marked done
    name, client = bucket
    b = books()
    job = export_request(company=b.company, by=None, kind="trial_balance", enqueue=False)
    job = export_execute(export_id=job.pk)
    ExportJob.objects.filter(pk=job.pk).update(status="running")

    # when: the redelivered task runs it again
    again = export_execute(export_id=job.pk)

    # then
    assert again.status == "done" and again.attempts == 2
    assert _keys(client, name, f"exports/{b.company.pk}/{job.pk}/") == [again.file_name] == [job.file_name]
