"""However many wrong passwords arrive at once, through either door, at most the limit are
checked: the attempt is reserved before its password is checked. Real threads against the
live server, with Django's real (slow) password hasher."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.contrib.auth.models import Group

from orderdesk.accounts.models import User
from orderdesk.accounts.roles import ensure_role_groups
from tests.accounts.counting_hasher import CountingPBKDF2PasswordHasher

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LIMIT = 5
BURST = 16


@pytest.fixture
def counted_admin(settings) -> User:
    settings.PASSWORD_HASHERS = ["tests.accounts.counting_hasher.CountingPBKDF2PasswordHasher"]
    settings.LOGIN_THROTTLE_ATTEMPTS = LIMIT
    settings.BEHIND_TLS_PROXY = True  # each thread from its own address: the username binds
    ensure_role_groups()
    user = User.objects.create_user(username="admin", password="the-right-password-1")
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get(name="admin"))
    CountingPBKDF2PasswordHasher.checks = 0
    return user


def wrong_password(base_url: str, path: str, n: int, start: threading.Barrier) -> int:
    with requests.Session() as session:
        page = session.get(base_url + path, timeout=60)
        token = TOKEN.search(page.text)
        assert token, page.text[:200]
        start.wait(timeout=60)
        response = session.post(
            base_url + path,
            data={
                "csrfmiddlewaretoken": token.group(1),
                "username": "admin",
                "password": f"wrong-{n}",
            },
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
            allow_redirects=False,
            timeout=120,
        )
        return response.status_code


def test_parallel_wrong_passwords_through_both_doors_check_at_most_the_limit(
    live_server, counted_admin
) -> None:
    doors = ["/accounts/login/", "/admin/login/"]
    start = threading.Barrier(BURST)
    with ThreadPoolExecutor(BURST) as pool:
        statuses = list(
            pool.map(
                lambda n: wrong_password(live_server.url, doors[n % 2], n, start), range(BURST)
            )
        )
    assert CountingPBKDF2PasswordHasher.checks <= LIMIT
    assert CountingPBKDF2PasswordHasher.checks >= 1
    # As a client sees it: a form error for each password checked, the lockout page for
    # each refused unchecked.
    assert statuses.count(200) == CountingPBKDF2PasswordHasher.checks
    assert statuses.count(429) == BURST - CountingPBKDF2PasswordHasher.checks
