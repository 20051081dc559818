import json
import os
import subprocess
import sys
from urllib.parse import quote

import pytest
from django.conf import settings
from django.urls import reverse
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from tests.core.urlmap import all_pages

pytestmark = pytest.mark.django_db

PAGES = all_pages()
SIGNED_IN_PAGES = [page for page in PAGES if not page.login_not_required]


@task()
def do_nothing() -> None:
    """A task for the queue figures; healthz only counts, nothing runs it."""


def test_the_url_map_finds_the_pages_every_role_uses() -> None:
    paths = {page.path for page in PAGES}
    assert {"/orders/", "/orders/new/", "/orders/attention/", "/audit/"} <= paths


@pytest.mark.parametrize("page", SIGNED_IN_PAGES, ids=str)
def test_anonymous_visitor_is_sent_to_login_from_every_page(client, page) -> None:
    response = client.get(page.path)
    assert response.status_code == 302, page.name
    assert response["Location"] == f"{reverse('login')}?next={quote(page.path)}"


def test_home_sends_signed_in_users_to_the_orders_list(coordinator_client) -> None:
    response = coordinator_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:list")


def test_healthz_answers_anonymous_callers_with_database_and_queue_status(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "queue": {"ready_tasks": 0, "oldest_ready_age_seconds": 0.0},
        "status_sync": {
            "webhooks": "not configured",
            "last_delivery_age_seconds": None,
            "polling": "normal schedule",
            "safety_interval_seconds": 21600.0,
            "silence_seconds": 21600.0,
            "overdue_orders": 0,
            "overdue_orders_capped": False,
            "oldest_overdue_seconds": 0.0,
        },
    }


def test_healthz_counts_tasks_waiting_for_a_worker(client) -> None:
    do_nothing.enqueue()
    do_nothing.enqueue()
    queue = client.get("/healthz").json()["queue"]
    assert queue["ready_tasks"] == 2
    assert queue["oldest_ready_age_seconds"] >= 0
    assert DBTaskResult.objects.count() == 2


def test_healthz_refuses_other_methods(client) -> None:
    assert client.post("/healthz").status_code == 405


PROBE = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/healthz")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def test_healthz_is_503_when_the_database_is_unreachable() -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ["HOME"],
        "DJANGO_SETTINGS_MODULE": "orderdesk.settings",
        "DEBUG": "true",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/nothing",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    assert answer["body"]["status"] == "error"
    assert answer["body"]["database"].startswith("unreachable")
