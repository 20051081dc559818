"""Fixtures shared by the whole suite: users per role, signed-in clients, the browser."""

import os
import shutil
from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from orderdesk.accounts.models import User
from orderdesk.accounts.roles import ensure_role_groups
from orderdesk.core.session_renewal import RENEWED_AT
from orderdesk.impilo.client import close_thread_session

# The OpenID Connect provider the sign-in tests run against (its own process, on loopback).
pytest_plugins = ["tests.oidc_provider"]

# Playwright's sync API runs an event loop in the test thread; Django must allow ORM calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "a-test-password-1"


@pytest.fixture(autouse=True)
def _clear_cache_after_committed_tests(
    request: pytest.FixtureRequest, django_db_blocker: DjangoDbBlocker
) -> Iterator[None]:
    """A test whose writes are committed (transaction=True, live_server) is cleaned by a
    flush, which leaves the cache table alone: the Orders page's cached state counts would
    outlive it and show the next test the last one's numbers. Autouse fixtures are torn down
    last, so this runs after the flush."""
    marker = request.node.get_closest_marker("django_db")
    committed = bool(
        {"live_server", "transactional_db"} & set(request.fixturenames)
        or (marker and (marker.kwargs.get("transaction") or marker.args[:1] == (True,)))
    )
    yield
    if committed:
        with django_db_blocker.unblock():
            cache.clear()


@pytest.fixture(autouse=True)
def _close_impilo_connections_after_live_server_tests(
    request: pytest.FixtureRequest,
) -> Iterator[None]:
    """The test's own calls to the sandbox keep an HTTP connection alive (this thread's
    Impilo session). The live server's thread serving it would keep its database connection
    open to the end of the run, where PostgreSQL then refuses to drop the test database."""
    yield
    if "live_server" in request.fixturenames:
        close_thread_session()


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    ensure_role_groups()

    def make(role: str, username: str | None = None) -> User:
        user = User.objects.create_user(
            username=username or role, password=PASSWORD, first_name=role.capitalize()
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        user.is_staff = role == "admin"
        user.save()
        return user

    return make


@pytest.fixture
def coordinator(make_user: Callable[..., User]) -> User:
    return make_user("coordinator")


@pytest.fixture
def support(make_user: Callable[..., User]) -> User:
    return make_user("support")


@pytest.fixture
def admin_user(make_user: Callable[..., User]) -> User:
    return make_user("admin")


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    # As in the middle of a session: renewed just now, so that a test's first page costs
    # the queries every later page does (core/session_renewal.py).
    session = client.session
    session[RENEWED_AT] = int(timezone.now().timestamp())
    session.save()
    return client


@pytest.fixture
def coordinator_client(coordinator: User) -> Client:
    return _client_for(coordinator)


@pytest.fixture
def support_client(support: User) -> Client:
    return _client_for(support)


@pytest.fixture
def admin_client_(admin_user: User) -> Client:
    return _client_for(admin_user)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, object]) -> dict[str, object]:
    """Drive Debian's Chromium: Playwright cannot download its own browser here."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is required in CI but was not found at {CHROMIUM}")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def sandbox(live_server, settings) -> str:
    """The sandbox over real HTTP: seeded, no faults, orderdesk pointed at it."""
    from orderdesk.sandbox import faults
    from orderdesk.sandbox.seed import seed

    seed(60)  # small: live-server tests flush the database, so this runs per test
    faults.clear()
    base_url = live_server.url + "/sandbox/impilo"
    settings.IMPILO_BASE_URL = base_url
    settings.IMPILO_API_KEY = settings.SANDBOX_API_KEY
    settings.SANDBOX_STATUS_STEP_SECONDS = 1
    return base_url
