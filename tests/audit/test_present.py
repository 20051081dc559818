"""How audit rows are shown: pretty bodies, header lists, and curl without the key."""

import shlex

from django.test import override_settings

from orderdesk.audit.present import curl_command, header_pairs, pretty_body, url_path
from orderdesk.audit.redact import REDACTED

KEY = "sk-live-Secret/Key+42"


def test_json_bodies_are_indented_and_other_text_is_left_as_it_is() -> None:
    assert pretty_body('{"b":1,"a":[2]}') == '{\n  "b": 1,\n  "a": [\n    2\n  ]\n}'
    assert pretty_body("<html>Bad gateway</html>") == "<html>Bad gateway</html>"
    assert pretty_body('{"cut": "in the mid') == '{"cut": "in the mid'
    assert pretty_body(None) == ""


def test_pretty_bodies_keep_non_ascii_text_readable() -> None:
    assert pretty_body('{"name":"Zoë"}') == '{\n  "name": "Zoë"\n}'


@override_settings(IMPILO_API_KEY=KEY)
def test_header_lists_hide_the_key_under_any_spelling_of_its_header() -> None:
    pairs = header_pairs({"impilo-api-key": KEY, "Accept": "application/json", "X-K": KEY})
    assert pairs == [
        ("Accept", "application/json"),
        ("impilo-api-key", REDACTED),
        ("X-K", REDACTED),
    ]


def test_url_path_drops_scheme_and_host_but_keeps_the_query() -> None:
    assert url_path("https://app.impiloplatform.com/api/v3/patient?name=Ann") == (
        "/api/v3/patient?name=Ann"
    )
    assert url_path("http://h/api/v3/kit") == "/api/v3/kit"


@override_settings(IMPILO_API_KEY=KEY)
def test_curl_repeats_the_request_with_the_key_as_a_shell_variable() -> None:
    command = curl_command(
        method="POST",
        url="https://impilo.test/api/v3/order",
        headers={
            "Impilo-API-Key": REDACTED,
            "Content-Type": "application/json",
            "Content-Length": "31",
            "X-Note": "it's",
        },
        body='{"note": "O\'Brien", "n": 1}',
    )
    assert KEY not in command
    assert '-H "Impilo-API-Key: $IMPILO_API_KEY"' in command
    assert "Content-Length" not in command
    # The shell reads back exactly what was sent.
    words = shlex.split(command.replace("\\\n", " "))
    assert words[:4] == ["curl", "-X", "POST", "https://impilo.test/api/v3/order"]
    assert "X-Note: it's" in words
    assert words[-1] == '{"note": "O\'Brien", "n": 1}'


@override_settings(IMPILO_API_KEY=KEY)
def test_curl_scrubs_a_key_that_slipped_into_the_url_or_body() -> None:
    command = curl_command(
        method="GET", url=f"https://impilo.test/api/v3/kit?key={KEY}", headers={}, body=KEY
    )
    assert KEY not in command
    assert command.count(REDACTED) == 2
