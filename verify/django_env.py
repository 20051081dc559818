"""Django in the orchestrator, on the same database and settings as the stack under test."""

import os

import django


def setup(env: dict[str, str]) -> None:
    for key in ("DATABASE_URL", "SQLITE_PATH"):
        os.environ.pop(key, None)
    os.environ.update(env)
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's event loop
    django.setup()


def reconnect() -> None:
    """After the database server restarted: drop the dead connections."""
    from django.db import connections

    for conn in connections.all():
        conn.close_if_unusable_or_obsolete()
        conn.close()
