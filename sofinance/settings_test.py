"""Settings for the test suite: PostgreSQL and Redis over real connections.

DATABASE_URL and REDIS_URL default to the local servers; the Makefile passes them through.
Tests that are about Celery run a real worker; everything else runs tasks eagerly.
"""

import os
import uuid

# The suite never reads a developer's .env (`make run` writes one): only what is set here counts.
os.environ.setdefault("SOFINANCE_ENV_FILE", "")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sofinance")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

from sofinance.settings import *  # noqa: F403

# Each test process (each pytest-xdist worker has its own test database) gets its own Redis
# namespace, so parallel workers and earlier runs sharing the Redis database never see each
# other's cache entries or rate-limit buckets.
TEST_NAMESPACE = f"test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{uuid.uuid4().hex[:8]}"
if REDIS_URL:  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] = TEST_NAMESPACE  # noqa: F405
RATE_LIMIT_KEY_PREFIX = f"{TEST_NAMESPACE}:ratelimit:"

# Tests decide when audit events are sealed (audit.sealing.in_process_sealer.flush()); the
# thread that seals them in `make run` is tested on its own.
AUDIT_SEALER = "manual"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
RATE_LIMIT_PER_MINUTE = 100000
RATE_LIMIT_BURST = 100000
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Tests never serve collected static files; without this WhiteNoise warns that STATIC_ROOT is missing.
WHITENOISE_AUTOREFRESH = True
