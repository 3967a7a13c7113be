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

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4).status != 200)"]

# Runtime configuration comes from the environment (README, "Environment").
CMD ["gunicorn", "sofinance.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--workers", "3", \
     "--timeout", "60", \
     "--forwarded-allow-ips", "*", \
     "--access-logfile", "-"]
