"""How an audit row is shown: pretty bodies, header lists and a "copy as curl" command.

The stored row is already redacted (models.record), but what is displayed is scrubbed
once more: a page must never show the API key, even from a row written by older code.
"""

import json
import shlex
from collections.abc import Mapping
from urllib.parse import urlsplit

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from orderdesk.audit.redact import API_KEY_HEADER, REDACTED, redact_text

KEY_VARIABLE = "$IMPILO_API_KEY"
# curl works these out itself; copying them would only make the command wrong or noisy.
CURL_SKIPPED_HEADERS = {"content-length", "host", "connection", "accept-encoding"}


@sensitive_variables()
def scrub(text: str) -> str:
    keys = {settings.IMPILO_API_KEY, getattr(settings, "SANDBOX_API_KEY", "")}
    for key in sorted(filter(None, keys), key=len, reverse=True):
        text = redact_text(text, key)
    return text


def is_key_header(name: str) -> bool:
    return name.strip().lower() == API_KEY_HEADER.lower()


@sensitive_variables()
def header_pairs(headers: Mapping[str, object] | None) -> list[tuple[str, str]]:
    """(name, value) pairs in name order, the key header always shown as redacted."""
    pairs = []
    for name, value in (headers or {}).items():
        shown = REDACTED if is_key_header(str(name)) else scrub(str(value))
        pairs.append((str(name), shown))
    return sorted(pairs, key=lambda pair: pair[0].lower())


def pretty_body(body: str | None) -> str:
    """JSON indented for reading; anything else (text, HTML, a cut-off body) as it is.

    Scrubbed again after indenting: decoding the JSON turns its escapes into characters,
    and what the page shows is the decoded text."""
    text = scrub(body or "")
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    return scrub(json.dumps(parsed, indent=2, ensure_ascii=False, sort_keys=False))


def url_path(url: str) -> str:
    parts = urlsplit(scrub(url or ""))
    return parts.path + (f"?{parts.query}" if parts.query else "")


@sensitive_variables()
def curl_command(
    *, method: str, url: str, headers: Mapping[str, object] | None, body: str | None
) -> str:
    """A shell command that repeats the request. The key is the shell variable
    $IMPILO_API_KEY, expanded by whoever runs it; its value is never part of the page."""
    lines = [f"curl -X {shlex.quote(method or 'GET')} {shlex.quote(scrub(url or ''))}"]
    for name, value in sorted((headers or {}).items(), key=lambda pair: str(pair[0]).lower()):
        if str(name).lower() in CURL_SKIPPED_HEADERS:
            continue
        if is_key_header(str(name)):
            # Double quotes so the shell expands the variable; the name is our constant.
            lines.append(f'-H "{API_KEY_HEADER}: {KEY_VARIABLE}"')
        else:
            lines.append(f"-H {shlex.quote(f'{name}: {scrub(str(value))}')}")
    if body:
        lines.append(f"--data-raw {shlex.quote(scrub(body))}")
    return " \\\n  ".join(lines)
