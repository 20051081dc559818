"""The parts of `make verify` that need no running stack: its table of who may reach
which URL covers every URL, its sizes, and the table it prints."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from verify import config
from verify.checks.access import TABLE, expected
from verify.report import Row, table


def url_names(patterns, namespace: str = "") -> list[str]:
    names = []
    for entry in patterns:
        if isinstance(entry, URLResolver) and entry.namespace != "admin":
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names += url_names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            names.append(f"{namespace}{entry.name}")
    return names


def test_every_routed_url_has_a_row_in_the_access_table() -> None:
    # A page added without a row would go unchecked by `make verify`'s access check.
    missing = sorted(set(url_names(get_resolver().url_patterns)) - set(TABLE))
    assert missing == []


@pytest.mark.parametrize(
    ("name", "role", "method", "answer"),
    [
        ("orders:list", "anonymous", "GET", "login"),
        ("orders:list", "coordinator", "GET", "ok"),
        ("orders:list", "coordinator", "POST", "ok"),  # the search form is posted
        ("orders:patient_search", "coordinator", "GET", "405"),  # GET would put it in a URL
        ("audit:list", "coordinator", "GET", "403"),
        ("orders:export", "support", "GET", "403"),
        ("orders:export", "admin", "GET", "ok"),
        ("orders:bulk_resubmit", "coordinator", "DELETE", "403|405"),
        ("impilo_webhook", "admin", "POST", "401"),
        ("sandbox:api_orders", "anonymous", "GET", "401"),
    ],
)
def test_the_access_table_says_what_each_role_may_do(name, role, method, answer) -> None:
    assert expected(TABLE[name], role, method) == answer


def test_ci_scale_shrinks_every_size_and_a_knob_overrides_one(monkeypatch) -> None:
    monkeypatch.setenv("VERIFY_SCALE", "ci")
    monkeypatch.setenv("VERIFY_KILLS", "2")
    sizes = config.sizes()
    assert sizes.kills == 2
    assert sizes.fault_orders < config.FULL["fault_orders"]
    assert sizes.load_seconds < config.FULL["load_seconds"]


def test_the_table_wraps_long_cells_and_shows_each_verdict() -> None:
    rows = [
        Row("faults", "100 orders", "0 duplicates", "x " * 60, True),
        Row("crash", "kills", "audited", "3 unaudited", False),
        Row("db restart", "stop", "503", "SQLite has no server", None),
    ]
    text = table(rows)
    assert [verdict in text for verdict in ("PASS", "FAIL", "n/a")] == [True, True, True]
    assert max(len(line) for line in text.splitlines()) == len(text.splitlines()[0])
