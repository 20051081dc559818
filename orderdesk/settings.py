"""The one settings file: every knob is an environment variable (see .env.example).

DEBUG is off unless DEBUG=true is given (`make run` gives it: the embedded demo, with
SQLite and the built-in Impilo sandbox). With DEBUG off, anything that has no safe default
must be given, and a weak value is refused: start-up stops and says what to do.
"""

import ipaddress
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from orderdesk.accounts import oidc_config

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


def refuse(name: str, problem: str, remedy: str) -> None:
    raise ImproperlyConfigured(f"{name} {problem} when DEBUG is off: {remedy}")


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


DEBUG = env_bool("DEBUG", False)

DEVELOPMENT_SECRET_KEY = "django-insecure-orderdesk-development-only"  # noqa: S105 (refused in production)
SECRET_KEY_MIN_LENGTH = 50
SANDBOX_DEMO_KEY = "sandbox-demo-key"  # published in the README: anyone may use it

SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if DEBUG:
    SECRET_KEY = SECRET_KEY or DEVELOPMENT_SECRET_KEY
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "testserver"]
else:
    require("SECRET_KEY", SECRET_KEY)
    require("ALLOWED_HOSTS", ALLOWED_HOSTS)
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH:
        refuse(
            "SECRET_KEY",
            f"must be a secret of your own of at least {SECRET_KEY_MIN_LENGTH} characters",
            "make one with `python -c 'import secrets; print(secrets.token_urlsafe(50))'`.",
        )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# --- Impilo -------------------------------------------------------------------------------
# IMPILO_BASE_URL is the host root (https://app.impiloplatform.com); the client adds /api/v3.
# Without it (in DEBUG) orderdesk talks to its own sandbox, served by this same process.
IMPILO_BASE_URL = env_str("IMPILO_BASE_URL").rstrip("/")
IMPILO_API_KEY = env_str("IMPILO_API_KEY")
IMPILO_SANDBOX_ENABLED = env_bool("IMPILO_SANDBOX", DEBUG and not IMPILO_BASE_URL)
SANDBOX_PATH_PREFIX = "sandbox/impilo/"
if IMPILO_SANDBOX_ENABLED:
    SANDBOX_API_KEY = env_str("IMPILO_SANDBOX_API_KEY") or SANDBOX_DEMO_KEY
    # The sandbox is served by this same server: `make run PORT=…` moves both.
    _port = env_str("PORT", "8000")
    IMPILO_BASE_URL = IMPILO_BASE_URL or f"http://127.0.0.1:{_port}/" + SANDBOX_PATH_PREFIX.rstrip(
        "/"
    )
    IMPILO_API_KEY = IMPILO_API_KEY or SANDBOX_API_KEY
if not DEBUG:
    require("IMPILO_BASE_URL", IMPILO_BASE_URL)
    require("IMPILO_API_KEY", IMPILO_API_KEY)
    if IMPILO_SANDBOX_ENABLED and SANDBOX_API_KEY == SANDBOX_DEMO_KEY:
        refuse(
            "IMPILO_SANDBOX_API_KEY",
            "must not be the published demo key while IMPILO_SANDBOX is on",
            "set IMPILO_SANDBOX=false (production talks to the real Impilo), or give "
            "IMPILO_SANDBOX_API_KEY a secret of your own.",
        )
    if urlsplit(IMPILO_BASE_URL).scheme != "https" and not is_loopback_url(IMPILO_BASE_URL):
        refuse(
            "IMPILO_BASE_URL",
            "must be an https:// address (plain http is allowed on loopback only)",
            f"use https:// instead of {IMPILO_BASE_URL.split(':', 1)[0]}://.",
        )
IMPILO_CONNECT_TIMEOUT = env_float("IMPILO_CONNECT_TIMEOUT", 3.0)
IMPILO_READ_TIMEOUT = env_float("IMPILO_READ_TIMEOUT", 10.0)
# List Kits has no published path (docs/impilo.md#list-kits): a setting until Impilo confirms it.
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
# Impilo publishes no status list (docs/impilo.md#order-statuses): statuses after which an
# order is no longer synced. Compared as given and in lower/upper/title case.
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
# Impilo calls one person may cause per minute (patient search, "Check Impilo now", the
# status refresh); 0 switches the limit off. The worker's own sending is never limited.
IMPILO_CALLS_PER_PERSON_PER_MINUTE = env_int("IMPILO_CALLS_PER_PERSON_PER_MINUTE", 30)
AUDIT_BODY_CAP_BYTES = env_int("AUDIT_BODY_CAP_BYTES", 256 * 1024)
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 90)
# A call's pending audit row older than connect + read timeout + this is an orphan: its
# process died mid-call, and recovery records it with an unknown outcome (audit/pending.py).
AUDIT_PENDING_GRACE_SECONDS = env_float("AUDIT_PENDING_GRACE_SECONDS", 60.0)
# Impilo lists no sites (docs/impilo.md#sites-items-and-kits): the catalog sync learns them
# from patients, reading at most this many pages of 250.
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
    "axes",
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
    "orderdesk.core.sign_in_redirect.HtmxSignInRedirectMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "orderdesk.accounts.doors.PasswordDoorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "orderdesk.core.cache_headers.PrivateNoStoreMiddleware",
    # Last: turns a sign-in refused by the throttle into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# The `sensitive_variables` marks on code holding the Impilo key apply even with DEBUG on.
DEFAULT_EXCEPTION_REPORTER_FILTER = "orderdesk.core.error_reports.AlwaysSafeExceptionReporterFilter"
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
                "orderdesk.orders.context_processors.attention_banner_and_badge",
                "orderdesk.accounts.oidc_views.sign_in_options",
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
        # It also holds the patient picker's snapshots and the Orders searches (one entry
        # per search, kept 12 hours): Django's default of 300 entries would cull them.
        "OPTIONS": {"MAX_ENTRIES": 100_000},
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

# --- Sign-in throttling (django-axes; the counting is accounts/throttle.py) -------------------
# Checked passwords per username per window (one address: four times as many, any usernames).
LOGIN_THROTTLE_ATTEMPTS = env_int("LOGIN_THROTTLE_ATTEMPTS", 5)
# The window: it ends this long after the last checked attempt.
LOGIN_THROTTLE_SECONDS = env_int("LOGIN_THROTTLE_SECONDS", 300)
AXES_HANDLER = "orderdesk.accounts.throttle.SignInThrottle"
# Read LOGIN_THROTTLE_* when called, so they stay the one place these numbers live.
AXES_FAILURE_LIMIT = "orderdesk.accounts.throttle.failure_limit"
AXES_COOLOFF_TIME = "orderdesk.accounts.throttle.window"
AXES_USERNAME_CALLABLE = "orderdesk.accounts.throttle.username_of"
# The address the rest of orderdesk trusts (BEHIND_TLS_PROXY: the hop our proxy added), not
# ipware's guess: ipware either found no address in a one-hop X-Forwarded-For or took a
# hop the client had written itself.
AXES_CLIENT_IP_CALLABLE = "orderdesk.accounts.throttle.client_address"
AXES_LOCKOUT_CALLABLE = "orderdesk.accounts.views.locked_out"
# The handler keeps its counts in accounts.SignInBudget, not in axes' own tables.
AXES_ENABLE_ADMIN = False
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# --- Sign-in: OpenID Connect and the password doors (accounts/oidc.py, accounts/doors.py) ---
# OpenID Connect is on when OIDC_ISSUER is set; everything else is found by discovery.
OIDC_ISSUER = env_str("OIDC_ISSUER")
OIDC_RP_CLIENT_ID = env_str("OIDC_CLIENT_ID")  # mozilla-django-oidc's names for them
OIDC_RP_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET")
OIDC_RP_SCOPES = env_str("OIDC_SCOPES", "openid profile email")
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups")
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "your organisation's account")
OIDC_ROLE_MAP = oidc_config.parse_role_map(env_str("OIDC_ROLE_MAP"))
OIDC_TIMEOUT = env_float("OIDC_TIMEOUT", 10.0)
# The password form, kept for the demo and a break-glass administrator. Off: the
# password doors (/accounts/login/ POST, /admin/login/) answer 404.
PASSWORD_SIGN_IN = env_bool("PASSWORD_SIGN_IN", True)
if OIDC_ISSUER:
    oidc_config.check_issuer(OIDC_ISSUER, DEBUG)
    oidc_config.require_for_oidc("OIDC_CLIENT_ID", OIDC_RP_CLIENT_ID)
    oidc_config.require_for_oidc("OIDC_CLIENT_SECRET", OIDC_RP_CLIENT_SECRET)
    oidc_config.require_for_oidc("OIDC_ROLE_MAP", OIDC_ROLE_MAP)
elif not PASSWORD_SIGN_IN:
    raise ImproperlyConfigured("PASSWORD_SIGN_IN=false needs OIDC_ISSUER: no one could sign in.")
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_STORE_ID_TOKEN = True  # only as id_token_hint when logging out at the provider
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_callback"
# The axes backend comes first: it refuses a throttled attempt before any other backend
# checks a password, whichever door it came through.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "orderdesk.accounts.doors.PasswordBackend",
    "orderdesk.accounts.oidc.OIDCBackend",
]

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
# However active, a session ends this long after signing in (core/session_renewal.py).
SESSION_MAX_HOURS = env_float("SESSION_MAX_HOURS", 12.0)
if SESSION_MAX_HOURS <= 0:
    raise ImproperlyConfigured(f"SESSION_MAX_HOURS must be above 0, got {SESSION_MAX_HOURS}")
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
        # The Log out form leads on to the identity provider's end-session endpoint.
        "form-action": [SELF, *([oidc_config.origin_of(OIDC_ISSUER)] if OIDC_ISSUER else [])],
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
    ("orderdesk.orders.engine.pipeline.sweep_expired_leases", 10),
    ("orderdesk.audit.pending.recover_orphans", 15),
    ("orderdesk.orders.engine.pipeline.requeue_stale", 15),
    ("orderdesk.orders.engine.pipeline.probe_auth_pause", 15),
    ("orderdesk.orders.engine.status_sync.sync_due_orders", 15),
    ("orderdesk.catalog.sync.sync_catalog_job", 3600),
]

# An order still retrying this long after it was queued shows in Needs attention.
ORDER_ATTENTION_RETRY_MINUTES = env_int("ORDER_ATTENTION_RETRY_MINUTES", 30)
