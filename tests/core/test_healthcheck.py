import pytest

from orderdesk.core.healthcheck import main, probe_host


@pytest.mark.parametrize(
    ("allowed_hosts", "host"),
    [
        ("orderdesk.example.org,other.example.org", "orderdesk.example.org"),
        (" .example.org ", "example.org"),
        ("*", "localhost"),
        ("*, orderdesk.example.org", "orderdesk.example.org"),
        ("", "localhost"),
    ],
)
def test_probe_uses_a_host_that_django_accepts(allowed_hosts: str, host: str) -> None:
    assert probe_host(allowed_hosts) == host


def test_probe_succeeds_against_a_healthy_server(live_server, monkeypatch) -> None:
    monkeypatch.setenv("ALLOWED_HOSTS", "localhost")
    port = live_server.url.rsplit(":", 1)[1]
    assert main(["healthcheck", port]) == 0


def test_probe_fails_when_nothing_listens(monkeypatch, capsys) -> None:
    monkeypatch.setenv("ALLOWED_HOSTS", "localhost")
    assert main(["healthcheck", "1"]) == 1
    assert "healthcheck failed" in capsys.readouterr().err
