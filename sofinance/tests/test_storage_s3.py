"""Default storage on an S3-compatible server (moto's, over HTTP on loopback)."""

from __future__ import annotations

import subprocess
import sys
import uuid

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from sofinance.tests.s3 import moto_s3_server
from sofinance.tests.subprocesses import BASE_DIR, clean_env

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
REGION = "us-east-1"


@pytest.fixture(scope="module")
def s3_endpoint():
    """A moto S3 server on a free loopback port for this module's tests."""
    with moto_s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(s3_endpoint):
    name = f"exports-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, **_boto_credentials())
    client.create_bucket(Bucket=name)
    return name, client


def _boto_credentials() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def test_default_storage_saves_into_the_bucket(settings, s3_endpoint, bucket):
    # given: the settings the bucket variables produce
    name, client = bucket
    settings.AWS_STORAGE_BUCKET_NAME = name
    settings.AWS_S3_ENDPOINT_URL = s3_endpoint
    settings.AWS_S3_REGION_NAME = REGION
    settings.AWS_ACCESS_KEY_ID = "testing"
    settings.AWS_SECRET_ACCESS_KEY = "testing"
    settings.AWS_DEFAULT_ACL = None
    settings.AWS_S3_FILE_OVERWRITE = False
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage"}}
    storage = storages["default"]

    # when
    saved = storage.save("exports/trial-balance.csv", ContentFile(b"account,debit,credit\n1000,10.00,0.00\n"))
    again = storage.save("exports/trial-balance.csv", ContentFile(b"second"))

    # then
    assert type(storage).__name__ == "S3Storage"
    assert saved == "exports/trial-balance.csv"
    assert again != saved and again.startswith("exports/trial-balance")  # never overwritten
    with storage.open(saved) as handle:
        assert handle.read() == b"account,debit,credit\n1000,10.00,0.00\n"
    obj = client.get_object(Bucket=name, Key=saved)
    assert obj["Body"].read() == b"account,debit,credit\n1000,10.00,0.00\n"
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=name)["Contents"])
    assert keys == sorted([saved, again])
    assert storage.url(saved).startswith(f"{s3_endpoint}/{name}/exports/trial-balance.csv?")


def test_bucket_variables_alone_send_default_storage_to_s3(s3_endpoint, bucket):
    # given: a fresh process configured only through the environment
    name, client = bucket
    env = clean_env(
        DJANGO_SETTINGS_MODULE="sofinance.settings",
        DEBUG="1",
        AWS_STORAGE_BUCKET_NAME=name,
        AWS_S3_ENDPOINT_URL=s3_endpoint,
        AWS_S3_REGION_NAME=REGION,
        **CREDENTIALS,
    )
    script = (
        "import django; django.setup();"
        "from django.core.files.base import ContentFile;"
        "from django.core.files.storage import default_storage as s;"
        "print(s.save('uploads/statement.ofx', ContentFile(b'OFXHEADER:100')))"
    )

    # when
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )

    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "uploads/statement.ofx"
    assert client.get_object(Bucket=name, Key="uploads/statement.ofx")["Body"].read() == b"OFXHEADER:100"
