"""Database connection settings that keep pages up across a database restart."""

import subprocess
import sys


def test_postgresql_connections_are_health_checked_before_reuse() -> None:
    # Without health checks, each thread's first request after a database restart was a
    # 500 (found by `make verify`'s crash check).
    code = (
        "import django; from django.conf import settings; django.setup();"
        "print(settings.DATABASES['default']['CONN_HEALTH_CHECKS'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={
            "DJANGO_SETTINGS_MODULE": "orderdesk.settings",
            "DEBUG": "true",
            "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "True"
