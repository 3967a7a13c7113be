# SOFinance web image (also runs the Celery worker and beat: see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

RUN groupadd --system --gid 10001 sofinance \
    && useradd --system --uid 10001 --gid sofinance --home-dir /app --shell /usr/sbin/nologin sofinance

# Dependencies first, so a code change does not reinstall them. psycopg[binary] brings its own libpq.
COPY requirements/base.txt requirements/base.txt
RUN pip install -r requirements/base.txt

COPY --chown=sofinance:sofinance . .

# Static files are collected at build time. Settings refuse the development secrets with DEBUG
# off, so the build passes throwaway values that exist only in this RUN step (never at runtime).
RUN SECRET_KEY=build-time-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz \
    JWT_SECRET=build:build-time-only-not-a-secret-0123456789abcdefghijklmnop \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --noinput \
    && rm -f /tmp/build.sqlite3 \
    && mkdir -p /app/media \
    && chown -R sofinance:sofinance /app/staticfiles /app/media

USER sofinance

# Gunicorn reads these itself: PORT (binds 0.0.0.0:$PORT), WEB_CONCURRENCY (workers) and
# FORWARDED_ALLOW_IPS, the proxies whose X-Forwarded-Proto it believes (loopback only by default:
# set it to your TLS proxy's address; never "*", which lets any client skip the HTTPS redirect).
ENV PORT=8000 \
    WEB_CONCURRENCY=3 \
    FORWARDED_ALLOW_IPS=127.0.0.1,::1

EXPOSE 8000

# /health/live answers whatever Host it is sent (it is served before the ALLOWED_HOSTS check).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "deploy/healthcheck.py"]

# Runtime configuration comes from the environment (README, "Environment").
CMD ["gunicorn", "sofinance.wsgi:application", "--timeout", "60", "--access-logfile", "-"]
