# syntax=docker/dockerfile:1
# orderdesk: one image for the web server (the default command) and the task worker
# (`docker run IMAGE python manage.py run_worker`). Configure it with environment
# variables; see .env.example and the README.

# --- builder: the locked dependencies in a virtualenv ---------------------------------------
FROM python:3.11-slim-bookworm AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
COPY requirements.lock /tmp/requirements.lock
RUN /venv/bin/pip install --require-hashes -r /tmp/requirements.lock

# --- final: slim, non-root, no build tools ---------------------------------------------------
FROM python:3.11-slim-bookworm
ENV PATH="/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DEBUG=false \
    SQLITE_PATH=/data/orderdesk.sqlite3
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin orderdesk \
    && mkdir -p /data \
    && chown orderdesk:orderdesk /data
WORKDIR /app
COPY --from=builder /venv /venv
COPY manage.py ./
COPY orderdesk ./orderdesk
COPY templates ./templates
COPY static ./static
# Hashed, compressed static files are made once here, with placeholder values that exist
# only for this command: the real ones are given when the container runs.
RUN SECRET_KEY=collectstatic-build-only-placeholder-not-a-secret-never-used-at-run-time \
    ALLOWED_HOSTS=build.invalid \
    IMPILO_BASE_URL=https://build.invalid \
    IMPILO_API_KEY=build-only-placeholder \
    python manage.py collectstatic --noinput -v0
USER orderdesk
EXPOSE 8000
# SQLite's file lives here when DATABASE_URL is not set; mount a volume to keep it.
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "orderdesk.core.healthcheck", "8000"]
# Workers, threads (16 each: pages waiting on a slow Impilo must not hold up the others) and
# an access-log format without query strings are in orderdesk/core/gunicorn_conf.py.
CMD ["gunicorn", "orderdesk.wsgi", "--config", "python:orderdesk.core.gunicorn_conf", "--bind", "0.0.0.0:8000"]
