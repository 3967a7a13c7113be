"""SOFinance settings.

Every deployment knob is an environment variable read with django-environ; README's
"Environment" table lists them with their defaults. Groups: core, database, cache,
Celery, storage, API platform, security, observability.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from corsheaders.defaults import default_headers as default_cors_headers
from csp.constants import NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env file is a convenience for development (`make run` writes one on its first run);
# real deployments set the environment, which always wins over the file. SOFINANCE_ENV_FILE names
# another file, or none when empty (the test suite reads none).
ENV_FILE = os.environ.get("SOFINANCE_ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    environ.Env.read_env(ENV_FILE)

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
    # One line naming everything that is missing, and no traceback: the first thing a newcomer or
    # an operator sees when a secret is not set.
    _missing = [
        name
        for name, value, dev in (
            ("SECRET_KEY", SECRET_KEY, DEV_SECRET_KEY),
            ("JWT_SECRET", JWT_SECRET, DEV_JWT_SECRET),
        )
        if not value.strip() or value == dev
    ]
    if _missing:
        raise SystemExit(
            f"SOFinance cannot start: DEBUG is off and {' and '.join(_missing)} "
            f"{'is' if len(_missing) == 1 else 'are'} not set. Set "
            + ", ".join(f"{name}={'k1:' if name == 'JWT_SECRET' else ''}<random>" for name in _missing)
            + " in the environment or in .env (make a random value with: python3 -c "
            "'import secrets; print(secrets.token_urlsafe(50))'), or set DEBUG=1 for development "
            "(`make run` writes a .env with DEBUG=1 and development secrets)."
        )
    from sofinance.api.jwt import check_key_ring

    _jwt_problems = check_key_ring(JWT_SECRET)
    if _jwt_problems:
        raise SystemExit(
            f"SOFinance cannot start: JWT_SECRET is not usable: {'; '.join(_jwt_problems)} "
            "(expected kid:secret pairs, comma-separated, each secret at least 32 bytes)."
        )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "sofinance.admin_apps.AdminConfig",  # django.contrib.admin: the accountant's (audited) site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "csp",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served locally: /api/docs/ works offline
    "django_celery_beat",
    "django_prometheus",
    "axes",  # login throttling (accounts/login_throttle.py)
    "sofinance.apps.PlatformConfig",
    "audit.apps.AuditConfig",
    "accounts.apps.AccountsConfig",
    "ledger.apps.LedgerConfig",
    "sales.apps.SalesConfig",
    "banking.apps.BankingConfig",
    "jobs.apps.JobsConfig",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "sofinance.observability.middleware.RequestIdMiddleware",
    # CORS first, so that every answer below (refusals included) carries its headers for a listed
    # origin, and browsers' preflights are answered before anything else runs.
    "corsheaders.middleware.CorsMiddleware",
    # Oversized bodies (413) and NUL characters (400) are refused before any view runs.
    "sofinance.request_guard.RequestGuardMiddleware",
    # /health/* answers whatever the Host header says (before CommonMiddleware's host check).
    "sofinance.observability.middleware.HealthProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "sofinance.api.middleware.ApiEnvelopeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "audit.middleware.AuditContextMiddleware",
    # A database rule's refusal on an admin page: its message and back to the form, not a traceback.
    "sofinance.admin_errors.AdminRefusalMiddleware",
    # Which database serves a request's reads (does nothing without DATABASE_REPLICA_URL).
    "sofinance.db_router.ReplicaRoutingMiddleware",
    # Turns a locked admin login into the lockout page (the API answers its own 429).
    "axes.middleware.AxesMiddleware",
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
AUTHENTICATION_BACKENDS = [
    # First: refuses any login of a locked account or address, before a password is checked.
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.EmailOrUsernameBackend",
    # Admin model permissions from the user's roles in their companies (no login: permissions only).
    "accounts.backends.RolePermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# One date format (ISO 8601) and one number format on every page: sofinance/formats/en/formats.py.
FORMAT_MODULE_PATH = ["sofinance.formats"]
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
# With DEBUG (the development server, `make run`) connections are not kept by default: runserver
# serves each request in a new thread, and each thread's kept connection stays open after it,
# so a PostgreSQL behind `make run` ran out of connections.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0 if DEBUG else 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Reads on a streaming replica (sofinance/db_router.py): reports and lists when it is healthy and
# not lagging, never a write nor a read inside a write, nor a user's reads just after their write.
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL", default="")
REPLICA_READ_YOUR_WRITES_SECONDS = env.int("REPLICA_READ_YOUR_WRITES_SECONDS", default=5)
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=30.0)
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **env.db_url_config(DATABASE_REPLICA_URL),
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["sofinance.db_router.ReplicaRouter"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Statements sent with server-side binding (sofinance.db_batch: the posting path) are
    # prepared once per connection and then only bound and executed; Django's own queries bind
    # on the client and are unaffected. (Behind a transaction-mode pooler, prepared statements
    # need a pooler that tracks them, e.g. PgBouncer 1.21+ with max_prepared_statements.)
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
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
# Audit events are sealed into their chains shortly after they commit, never on the commit's path:
# by a Celery task AUDIT_SEAL_DELAY seconds later with a broker, by an in-process thread without.
AUDIT_SEAL_DELAY = env.float("AUDIT_SEAL_DELAY", default=1.0)
AUDIT_SEALER = "thread"  # without a broker; the test settings use "manual" (sealed on flush)
# Schedules live in the database (django-celery-beat), created by jobs/migrations/0002 and edited
# in the admin (Periodic tasks). Nothing is declared here: with the DatabaseScheduler a schedule in
# settings would be written over the admin's edits every time beat starts.
CELERY_BEAT_SCHEDULE: dict = {}
# The intervals the schedules start with (read by that migration, so they count when the database
# is created; afterwards the admin's Periodic tasks are the place to change them).
AUDIT_SEAL_INTERVAL = env.int("AUDIT_SEAL_INTERVAL", default=30)
AUDIT_ANCHOR_INTERVAL = env.int("AUDIT_ANCHOR_INTERVAL", default=3600)
# How long a task taken by a worker may go unacknowledged before the broker hands it to another
# worker (tasks are acknowledged when they finish: a worker killed mid-task leaves it to be
# redelivered). Longer than the longest export.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}

# --------------------------------------------------------------------------- jobs: integrity runs, exports
# How long a run waits for another run of the same company to finish before it is retried later.
INTEGRITY_LOCK_WAIT = env.int("INTEGRITY_LOCK_WAIT_SECONDS", default=600)
# At most this many findings of one check are recorded per run (the rest are counted).
INTEGRITY_MAX_FINDINGS = env.int("INTEGRITY_MAX_FINDINGS", default=1000)
# Export files are deleted this long after they are made (by the clean-up schedule).
EXPORT_TTL = timedelta(hours=env.int("EXPORT_TTL_HOURS", default=168))
# Lifetime of a pre-signed download URL of an export on S3.
EXPORT_URL_TTL = env.int("EXPORT_URL_TTL_SECONDS", default=900)

# --------------------------------------------------------------------------- storage
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default=None)
    AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default=None)
    AWS_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID", default=None)
    AWS_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY", default=None)
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    # Pre-signed URLs (export downloads) signed with Signature Version 4, which every AWS region
    # and MinIO accept.
    AWS_S3_SIGNATURE_VERSION = "s3v4"
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
# Largest request body (bytes) read into memory; a larger one is 413 before it is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("REQUEST_BODY_MAX_BYTES", default=2_621_440)
# Largest multipart upload (bytes, files included).
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)
# Key for the HMAC that seals each audit event's content; defaults to SECRET_KEY.
AUDIT_HMAC_KEY = env("AUDIT_HMAC_KEY", default=SECRET_KEY)
# Anchors of the audit chain heads on the default storage (audit/anchoring.py): on a bucket with
# S3 Object Lock each file is kept this long, in this mode (GOVERNANCE or COMPLIANCE).
AUDIT_ANCHOR_RETENTION_DAYS = env.int("AUDIT_ANCHOR_RETENTION_DAYS", default=2557)
AUDIT_ANCHOR_LOCK_MODE = env("AUDIT_ANCHOR_LOCK_MODE", default="GOVERNANCE")
if AUDIT_ANCHOR_LOCK_MODE not in ("GOVERNANCE", "COMPLIANCE"):
    raise SystemExit("SOFinance cannot start: AUDIT_ANCHOR_LOCK_MODE must be GOVERNANCE or COMPLIANCE.")

# JSON only (and the CSV downloads the report views add); the browsable API, HTML pages of the
# API that the schema does not document, is a development aid served only with DEBUG.
API_RENDERER_CLASSES = ["sofinance.api.renderers.EnvelopeJSONRenderer"]
if DEBUG:
    API_RENDERER_CLASSES.append("sofinance.api.renderers.EnvelopeBrowsableAPIRenderer")

# The API takes JSON (the uploads name their multipart parser themselves); forms only for the
# browsable API's, with DEBUG. A form sent to a JSON operation is 415, as the schema says.
API_PARSER_CLASSES = ["sofinance.api.parsers.DecimalJSONParser"]
if DEBUG:
    API_PARSER_CLASSES += ["sofinance.api.parsers.FormParser", "sofinance.api.parsers.MultiPartParser"]

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": API_RENDERER_CLASSES,
    "DEFAULT_PARSER_CLASSES": API_PARSER_CLASSES,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sofinance.api.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["sofinance.api.throttling.TokenBucketThrottle"],
    "DEFAULT_PAGINATION_CLASS": "sofinance.api.pagination.EnvelopePageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["sofinance.api.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "sofinance.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "sofinance.api.exceptions.envelope_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
    "DEFAULT_METADATA_CLASS": "sofinance.api.metadata.MethodsMetadata",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "SOFinance API",
    # The schema's full introduction (auth, envelope, errors, roles, money) is API_DESCRIPTION in
    # sofinance/api/schema.py, set by its hook; this is the fallback of other generators.
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
    "ENUM_NAME_OVERRIDES": {
        "AccountTypeEnum": "accounts.models.AccountType",
        "BankLineStatusEnum": "banking.models.LineStatus",
        "BankStatementStatusEnum": "banking.models.StatementStatus",
        "BankStatementFormatEnum": "banking.models.StatementFormat",
        "JournalFileFormatEnum": ["csv", "xlsx"],
        "EntryInputSourceEnum": ["manual", "import"],
        "TrueFalseEnum": ["true", "false"],
        "JobStatusEnum": "jobs.models.JobStatus",
        "DiscrepancyStatusEnum": "jobs.models.DiscrepancyStatus",
        "ExportKindEnum": "jobs.models.ExportKind",
        "ExportFormatEnum": "jobs.models.ExportFormat",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "sofinance.api.schema.wrap_responses_in_envelope",
    ],
    # Security schemes come from the authentication classes (jwtAuth: sofinance/api/schema.py).
}

# --------------------------------------------------------------------------- client address, logins
# Reverse proxies in front of the app that append to X-Forwarded-For; 0 = trust the socket only
# (sofinance/client_ip.py). Every limit and audit event uses the address this gives.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# django-axes (accounts/login_throttle.py): failures per account and per address, then a lock.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(seconds=env.int("LOGIN_LOCKOUT_SECONDS", default=900))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a lock ends on time, however often it is tried
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_DISABLE_ACCESS_LOG = True  # successful logins are in the audit trail already
AXES_CLIENT_IP_CALLABLE = "sofinance.client_ip.client_ip"
AXES_USERNAME_CALLABLE = "accounts.login_throttle.lockout_username"
AXES_LOCKOUT_CALLABLE = "accounts.login_throttle.lockout_response"
AXES_VERBOSE = False

# --------------------------------------------------------------------------- email, invitations
# EMAIL_URL configures the backend in one variable (django-environ): consolemail:// (the default,
# mails printed to the log), smtp://user:password@host:25, smtp+tls://…:587, smtp+ssl://…:465.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="SOFinance <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
INVITATION_TTL = timedelta(hours=env.int("INVITATION_TTL_HOURS", default=7 * 24))
# A page of your front end that accepts invitations: the email links to it with ?token=…
# Empty: the email links to the admin's accept page (under SITE_URL) and gives the token and the
# API call that accepts it.
INVITATION_ACCEPT_URL = env("INVITATION_ACCEPT_URL", default="")
# Where people reach this deployment (scheme and host, e.g. https://books.example.com): the base of
# links in emails, which are sent without a request to take the host from (the invitation's link
# to the admin's accept page).
SITE_URL = env("SITE_URL", default="http://localhost:8000")

# --------------------------------------------------------------------------- security
# No SECURE_PROXY_SSL_HEADER: Django would believe X-Forwarded-Proto from any client (and skip the
# HTTPS redirect). Gunicorn decides instead: it takes the scheme from X-Forwarded-Proto only when the
# connection comes from FORWARDED_ALLOW_IPS (its own variable; default loopback only) and passes it
# on as wsgi.url_scheme, which is what request.is_secure() reads.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy on every response (django-csp). Scripts only from this site: the admin,
# the browsable API and Swagger UI (served locally, its start-up script a separate file) run no
# inline script. Inline styles stay allowed: the admin and Swagger UI set style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Cross-origin requests to the API (django-cors-headers): off unless origins are listed.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = (*default_cors_headers, "idempotency-key", "x-request-id")
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Idempotent-Replayed", "Retry-After", "Deprecation", "Link"]
CORS_PREFLIGHT_MAX_AGE = 3600

# /metrics: a bearer token, or a client address in this list (addresses or networks).
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.0/8", "::1"])

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
