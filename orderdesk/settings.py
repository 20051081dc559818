"""The one settings file: every knob is an environment variable (see .env.example).

The defaults are the embedded demo: DEBUG on, SQLite, the built-in Impilo sandbox.
With DEBUG off, anything that has no safe default must be given, or start-up stops.
"""

import os
import tempfile
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VERSION = "0.1.0"


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}") from exc


def env_float(name: str, default: float) -> float:
    value = env_str(name)
    try:
        return float(value) if value else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def require(name: str, value: object) -> None:
    if not value:
        raise ImproperlyConfigured(
            f"{name} must be set when DEBUG is off (see .env.example and the README)."
        )


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if DEBUG:
    SECRET_KEY = SECRET_KEY or "django-insecure-orderdesk-development-only"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "testserver"]
else:
    require("SECRET_KEY", SECRET_KEY)
    require("ALLOWED_HOSTS", ALLOWED_HOSTS)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# --- Impilo -------------------------------------------------------------------------------
# IMPILO_BASE_URL is the host root (https://app.impiloplatform.com); the client adds /api/v3.
# Without it (in DEBUG) orderdesk talks to its own sandbox, served by this same process.
IMPILO_BASE_URL = env_str("IMPILO_BASE_URL").rstrip("/")
IMPILO_API_KEY = env_str("IMPILO_API_KEY")
IMPILO_SANDBOX_ENABLED = env_bool("IMPILO_SANDBOX", DEBUG and not IMPILO_BASE_URL)
SANDBOX_PATH_PREFIX = "sandbox/impilo/"
if IMPILO_SANDBOX_ENABLED:
    SANDBOX_API_KEY = env_str("IMPILO_SANDBOX_API_KEY", "sandbox-demo-key")
    # The sandbox is served by this same server: `make run PORT=…` moves both.
    _port = env_str("PORT", "8000")
    IMPILO_BASE_URL = IMPILO_BASE_URL or f"http://127.0.0.1:{_port}/" + SANDBOX_PATH_PREFIX.rstrip(
        "/"
    )
    IMPILO_API_KEY = IMPILO_API_KEY or SANDBOX_API_KEY
if not DEBUG:
    require("IMPILO_BASE_URL", IMPILO_BASE_URL)
    require("IMPILO_API_KEY", IMPILO_API_KEY)
IMPILO_CONNECT_TIMEOUT = env_float("IMPILO_CONNECT_TIMEOUT", 3.0)
IMPILO_READ_TIMEOUT = env_float("IMPILO_READ_TIMEOUT", 10.0)
# List Kits has no published path (API.md §4.6): it is a setting until Impilo confirms it.
IMPILO_KITS_PATH = env_str("IMPILO_KITS_PATH", "/api/v3/kit")
IMPILO_WEBHOOK_SECRET = env_str("IMPILO_WEBHOOK_SECRET")

# --- Orders -------------------------------------------------------------------------------
ORDER_MAX_COUNT = env_int("ORDER_MAX_COUNT", 100)
ORDER_MAX_ATTEMPTS = env_int("ORDER_MAX_ATTEMPTS", 8)
ORDER_RETRY_BASE_SECONDS = env_float("ORDER_RETRY_BASE_SECONDS", 5.0)
ORDER_RETRY_MAX_SECONDS = env_float("ORDER_RETRY_MAX_SECONDS", 600.0)
ORDER_LEASE_SECONDS = env_int("ORDER_LEASE_SECONDS", 60)
ORDER_RECONCILE_PAGES = env_int("ORDER_RECONCILE_PAGES", 20)
# "Not at Impilo" counts only once the last create was sent this long ago: a create that
# outlasted our read timeout may still commit at Impilo after we looked (pipeline.py).
ORDER_ABSENT_AFTER_SECONDS = env_float("ORDER_ABSENT_AFTER_SECONDS", 60.0)
# An order this long past its send time gets a fresh task (its own may have been lost).
ORDER_STALE_SECONDS = env_float("ORDER_STALE_SECONDS", 300.0)
# Task loops per `run_worker` process: each holds one order's send at a time and its own
# database connection (core/worker_pool.py). 4 overlap the waits on Impilo and on commits.
WORKER_THREADS = env_int("WORKER_THREADS", 4)
# Impilo publishes no status list (API.md §6.1): statuses after which an order is no
# longer synced. Compared as given and in lower/upper/title case.
ORDER_FINAL_IMPILO_STATUSES = env_list(
    "ORDER_FINAL_IMPILO_STATUSES", "delivered,cancelled,canceled,closed,returned"
)
# Status sync backs off as orders age: the next check comes after as long again as the
# order's age (1 min, 2 min, 4 min ...), within these bounds.
ORDER_SYNC_MIN_SECONDS = env_float("ORDER_SYNC_MIN_SECONDS", 60.0)
ORDER_SYNC_MAX_SECONDS = env_float("ORDER_SYNC_MAX_SECONDS", 8 * 3600.0)
# Orders not final this many days after they were sent are no longer checked by the
# periodic job (a person can still press "Check Impilo now").
ORDER_SYNC_STOP_DAYS = env_float("ORDER_SYNC_STOP_DAYS", 30.0)
# Orders refreshed per query of the due queue; the job repeats it until the queue is empty
# or ORDER_SYNC_SLOT_SECONDS have passed, so its pace follows the backlog.
ORDER_SYNC_BATCH = env_int("ORDER_SYNC_BATCH", 50)
ORDER_SYNC_SLOT_SECONDS = env_float("ORDER_SYNC_SLOT_SECONDS", 12.0)
# While webhook deliveries arrive (a secret set and a verified delivery within
# ORDER_SYNC_WEBHOOK_SILENCE_SECONDS), an order is polled at most this often: webhooks
# bring the changes, polling is the safety net. Silent longer, polling is normal again.
ORDER_SYNC_WEBHOOK_SAFETY_SECONDS = env_float("ORDER_SYNC_WEBHOOK_SAFETY_SECONDS", 6 * 3600.0)
ORDER_SYNC_WEBHOOK_SILENCE_SECONDS = env_float("ORDER_SYNC_WEBHOOK_SILENCE_SECONDS", 6 * 3600.0)
BREAKER_FAILURE_THRESHOLD = env_int("BREAKER_FAILURE_THRESHOLD", 5)
BREAKER_COOL_OFF_SECONDS = env_float("BREAKER_COOL_OFF_SECONDS", 30.0)
AUDIT_BODY_CAP_BYTES = env_int("AUDIT_BODY_CAP_BYTES", 256 * 1024)
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 90)
# A call's pending audit row older than connect + read timeout + this is an orphan: its
# process died mid-call, and recovery records it with an unknown outcome (audit/pending.py).
AUDIT_PENDING_GRACE_SECONDS = env_float("AUDIT_PENDING_GRACE_SECONDS", 60.0)
# Impilo lists no sites (API.md §4.4): the catalog sync learns them from patients, reading
# at most this many pages of 250.
CATALOG_SITE_SCAN_PAGES = env_int("CATALOG_SITE_SCAN_PAGES", 40)

# --- Django -------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "orderdesk.accounts",
    "orderdesk.core",
    "orderdesk.audit",
    "orderdesk.impilo",
    "orderdesk.catalog",
    "orderdesk.orders",
    "orderdesk.sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "orderdesk.core.session_renewal.SessionRenewalMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "orderdesk.urls"
WSGI_APPLICATION = "orderdesk.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "orders:list"
LOGOUT_REDIRECT_URL = "login"

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
                "orderdesk.core.context_processors.navigation",
            ],
        },
    }
]

if env_str("DATABASE_URL"):
    # Health checks: a connection kept across a database restart is replaced, not used
    # (without them, each thread's first request after a restart was a 500).
    DATABASES = {
        "default": dj_database_url.parse(
            env_str("DATABASE_URL"), conn_max_age=60, conn_health_checks=True
        )
    }
    # One test database per test process, as for SQLite below.
    DATABASES["default"]["TEST"] = {"NAME": f"test_orderdesk_{os.getpid()}"}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH") or str(BASE_DIR / "db.sqlite3"),
            # The web server, the worker and the tests' threads all write: WAL lets readers
            # go on, IMMEDIATE takes the write lock up front instead of failing mid-way.
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file, not :memory:, so live-server, worker threads and subprocesses share it.
            # One file per test process: parallel runs must never share a test database.
            "TEST": {"NAME": str(Path(tempfile.gettempdir()) / f"orderdesk-test-{os.getpid()}.db")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "orderdesk_cache",
    }
}

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_THROTTLE_ATTEMPTS = env_int("LOGIN_THROTTLE_ATTEMPTS", 5)
LOGIN_THROTTLE_SECONDS = env_int("LOGIN_THROTTLE_SECONDS", 300)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Sessions and security headers -----------------------------------------------------------
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
# An idle timeout: core/session_renewal.py restarts the session's age while it is used,
# with one write per SESSION_RENEW_SECONDS rather than Django's one per request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_RENEW_SECONDS = min(60, SESSION_COOKIE_AGE // 10)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # htmx takes the token from the page (hx-headers), not the cookie
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# A reverse proxy terminates TLS and sets X-Forwarded-Proto (and X-Forwarded-For).
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if BEHIND_TLS_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# (dotted path, every N seconds) run by each worker process; see core/periodic.py.
PERIODIC_JOBS: list[tuple[str, float]] = [
    ("orderdesk.orders.pipeline.sweep_expired_leases", 10),
    ("orderdesk.audit.pending.recover_orphans", 15),
    ("orderdesk.orders.pipeline.requeue_stale", 15),
    ("orderdesk.orders.pipeline.probe_auth_pause", 15),
    ("orderdesk.orders.sync.sync_due_orders", 15),
    ("orderdesk.catalog.sync.sync_catalog_job", 3600),
]

# An order still retrying this long after it was queued shows in Needs attention.
ORDER_ATTENTION_RETRY_MINUTES = env_int("ORDER_ATTENTION_RETRY_MINUTES", 30)
