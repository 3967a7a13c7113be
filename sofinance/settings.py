"""SOFinance settings.

Every deployment knob is an environment variable read with django-environ; README's
"Environment" table lists them with their defaults. Groups: core, database, cache,
Celery, storage, API platform, security, observability.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env file is a convenience for development; real deployments set the environment.
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

# --------------------------------------------------------------------------- core
DEBUG = env.bool("DEBUG", default=False)
ENVIRONMENT = env("ENVIRONMENT", default="development" if DEBUG else "production")

# Development-only secrets. With DEBUG off the process refuses to start on them (below).
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-0123456789abcdef"
DEV_JWT_SECRET = "dev:dev-only-insecure-jwt-secret-change-me-0123456789"

SECRET_KEY = env("SECRET_KEY", default=DEV_SECRET_KEY)
# "kid:secret" pairs separated by commas; the first signs, all verify (key rotation).
JWT_SECRET = env("JWT_SECRET", default=DEV_JWT_SECRET)
JWT_ACCESS_TOKEN_LIFETIME = timedelta(seconds=env.int("JWT_ACCESS_TOKEN_LIFETIME", default=900))
JWT_REFRESH_TOKEN_LIFETIME = timedelta(seconds=env.int("JWT_REFRESH_TOKEN_LIFETIME", default=7 * 24 * 3600))

if not DEBUG:
    if SECRET_KEY == DEV_SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    if JWT_SECRET == DEV_JWT_SECRET:
        raise ImproperlyConfigured("JWT_SECRET must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "audit.admin_apps.AuditedAdminConfig",  # django.contrib.admin with the audited site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served locally: /api/docs/ works offline
    "django_celery_beat",
    "django_prometheus",
    "sofinance.apps.PlatformConfig",
    "audit.apps.AuditConfig",
    "accounts.apps.AccountsConfig",
    "ledger.apps.LedgerConfig",
    "sales.apps.SalesConfig",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "sofinance.observability.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "sofinance.api.middleware.ApiEnvelopeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "sofinance.urls"
WSGI_APPLICATION = "sofinance.wsgi.application"
ASGI_APPLICATION = "sofinance.asgi.application"
# API paths have no trailing slash and accept one without a redirect (see sofinance/urls.py).
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailOrUsernameBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --------------------------------------------------------------------------- database
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of failing to
    # upgrade a read lock; the timeout is how long a writer waits for the lock.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# --------------------------------------------------------------------------- cache
REDIS_URL = env("REDIS_URL", default="")
CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", default="sofinance")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --------------------------------------------------------------------------- Celery
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or REDIS_URL
# Without a broker every task runs in-process, at once (the embedded default).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "audit-seal-chains": {
        "task": "audit.tasks.audit_seal_chains",
        "schedule": timedelta(seconds=env.int("AUDIT_SEAL_INTERVAL", default=30)),
    },
    "audit-verify-chains": {
        "task": "audit.tasks.audit_verify_chains",
        "schedule": timedelta(hours=1),
    },
    "idempotency-purge": {
        "task": "sofinance.tasks.idempotency_purge_expired",
        "schedule": timedelta(hours=1),
    },
    # Recompute the last 7 days of the stored sales summary from the documents (logs differences).
    "sales-summary-rebuild": {
        "task": "sales.tasks.sales_summary_rebuild_task",
        "schedule": crontab(hour=2, minute=15),
    },
}

# --------------------------------------------------------------------------- storage
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default=None)
    AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default=None)
    AWS_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID", default=None)
    AWS_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY", default=None)
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    AWS_S3_FILE_OVERWRITE = False
    DEFAULT_STORAGE_BACKEND = "storages.backends.s3.S3Storage"
else:
    DEFAULT_STORAGE_BACKEND = "django.core.files.storage.FileSystemStorage"
STORAGES = {
    "default": {"BACKEND": DEFAULT_STORAGE_BACKEND},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --------------------------------------------------------------------------- API platform
ENABLE_AUDIT_LOGGING = env.bool("ENABLE_AUDIT_LOGGING", default=True)
ENABLE_KEY_MIRRORING = env.bool("ENABLE_KEY_MIRRORING", default=False)
ENABLE_RESPONSE_ENRICHMENT = env.bool("ENABLE_RESPONSE_ENRICHMENT", default=False)
RATE_LIMIT_PER_MINUTE = env.int("RATE_LIMIT_PER_MINUTE", default=1200)
RATE_LIMIT_BURST = env.int("RATE_LIMIT_BURST", default=300)
# Redis keys of the shared token buckets (used only when REDIS_URL is set).
RATE_LIMIT_KEY_PREFIX = f"{CACHE_KEY_PREFIX}:ratelimit:"
IDEMPOTENCY_KEY_TTL = timedelta(hours=env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24))
API_VERSION = "1.0"
# Key for the HMAC that seals each audit event's content; defaults to SECRET_KEY.
AUDIT_HMAC_KEY = env("AUDIT_HMAC_KEY", default=SECRET_KEY)

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": [
        "sofinance.api.renderers.EnvelopeJSONRenderer",
        "sofinance.api.renderers.EnvelopeBrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "sofinance.api.parsers.DecimalJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sofinance.api.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["sofinance.api.throttling.TokenBucketThrottle"],
    "DEFAULT_PAGINATION_CLASS": "sofinance.api.pagination.EnvelopePageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "sofinance.api.exceptions.envelope_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "SOFinance API",
    "DESCRIPTION": (
        "Double-entry accounting. Every JSON response is an envelope "
        "{success, data, error, meta}; errors carry stable codes."
    ),
    "VERSION": API_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {"AccountTypeEnum": "accounts.models.AccountType"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "sofinance.api.schema.wrap_responses_in_envelope",
    ],
    # Security schemes come from the authentication classes (jwtAuth: sofinance/api/schema.py).
}

# --------------------------------------------------------------------------- security
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --------------------------------------------------------------------------- observability
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING_CONFIG = None  # sofinance.observability.logging configures structlog + stdlib once.
SENTRY_DSN = env("SENTRY_DSN", default="")
PROMETHEUS_EXPORT_MIGRATIONS = False

from sofinance.observability.logging import configure_logging  # noqa: E402
from sofinance.observability.sentry import configure_sentry  # noqa: E402

configure_logging(
    level=LOG_LEVEL, json=env.bool("LOG_JSON", default=True), tasks_eager=CELERY_TASK_ALWAYS_EAGER
)
configure_sentry(dsn=SENTRY_DSN, environment=ENVIRONMENT)
