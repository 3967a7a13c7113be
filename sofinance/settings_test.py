"""Settings for the test suite: PostgreSQL and Redis over real connections.

DATABASE_URL and REDIS_URL default to the local servers; the Makefile passes them through.
Tests that are about Celery run a real worker; everything else runs tasks eagerly.
"""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sofinance")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

from sofinance.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
RATE_LIMIT_PER_MINUTE = 100000
RATE_LIMIT_BURST = 100000
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
