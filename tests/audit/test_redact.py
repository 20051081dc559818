"""The key is redacted however it is spelled: escaped, encoded, in another letter case."""

import html
import json
from urllib.parse import quote, quote_plus

import pytest
from django.test import override_settings

from orderdesk.audit.present import pretty_body
from orderdesk.audit.redact import REDACTED, redact_text

KEY = "sk-live-Secret/Key+42"


def json_unicode_escaped(text: str, *, upper: bool = False) -> str:
    return "".join(f"\\u{ord(c):04X}" if upper else f"\\u{ord(c):04x}" for c in text)


SPELLINGS = {
    "raw": KEY,
    "percent": quote(KEY, safe=""),
    "percent, lower-case hex": quote(KEY, safe="")
    .lower()
    .replace("sk-live-secret", "sk-live-Secret"),
    "form-encoded": quote_plus(KEY),
    "twice percent-encoded": quote(quote(KEY, safe=""), safe=""),
    "JSON slash escape": KEY.replace("/", "\\/"),
    "JSON unicode escapes": json_unicode_escaped(KEY),
    "JSON unicode escapes, upper-case hex": json_unicode_escaped(KEY, upper=True),
    "JSON, one letter escaped": KEY.replace("k", "\\u006b", 1),
    "upper case": KEY.upper(),
    "lower case": KEY.lower(),
    "HTML character references": "".join(f"&#{ord(c)};" for c in KEY),
    "HTML hex references": "".join(f"&#x{ord(c):x};" for c in KEY),
    "escaped by html.escape": html.escape(KEY),
}


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_every_spelling_of_the_key_is_redacted(spelling: str) -> None:
    text = f'{{"note": "before {spelling} after"}}'
    redacted = redact_text(text, KEY)
    assert redacted == f'{{"note": "before {REDACTED} after"}}'


def test_text_without_the_key_is_left_as_it_is() -> None:
    text = '{"name": "Zoë", "path": "\\/api\\/v3", "near": "sk-live-Secret/Key+4"}'
    assert redact_text(text, KEY) == text


@override_settings(IMPILO_API_KEY=KEY)
@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_the_audit_page_never_decodes_the_key_back(spelling: str) -> None:
    body = '{"echo": "' + spelling.replace('"', '\\"') + '"}'
    shown = pretty_body(body)
    assert KEY not in shown
    assert KEY.lower() not in shown.lower()


@override_settings(IMPILO_API_KEY=KEY)
def test_a_key_json_escaped_by_a_server_is_hidden_after_pretty_printing() -> None:
    body = json.dumps({"error": f"bad key {KEY}"})
    escaped = body.replace(KEY, json_unicode_escaped(KEY))
    assert json.loads(escaped)["error"] == f"bad key {KEY}"
    assert pretty_body(escaped) == '{\n  "error": "bad key ' + REDACTED + '"\n}'
