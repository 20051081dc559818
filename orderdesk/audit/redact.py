"""What an audit row may keep: the API key never, bodies only up to a cap.

Pure functions, so the rules are testable without a database and the model stays short.
"""

from collections.abc import Mapping
from urllib.parse import quote, quote_plus

REDACTED = "[REDACTED]"
API_KEY_HEADER = "Impilo-API-Key"


def _key_forms(key: str) -> list[str]:
    """The key as it may appear: raw, or percent-encoded in a URL or a form body."""
    if not key:
        return []
    forms = {key, quote(key, safe=""), quote_plus(key)}
    # Longest first, so a raw key is not left half-replaced by a shorter encoded form.
    return sorted(forms, key=len, reverse=True)


def redact_text(text: str, key: str) -> str:
    for form in _key_forms(key):
        text = text.replace(form, REDACTED)
    return text


def redact_headers(headers: Mapping[str, object], key: str) -> dict[str, str]:
    """Header values as text, the key header always redacted whatever its value."""
    clean: dict[str, str] = {}
    for name, value in headers.items():
        name_text = clean_text(str(name))
        if name_text.lower() == API_KEY_HEADER.lower():
            clean[name_text] = REDACTED
        else:
            clean[name_text] = clean_text(redact_text(str(value), key))
    return clean


def clean_text(text: str) -> str:
    """PostgreSQL text and jsonb cannot hold NUL: an odd response must not lose its row."""
    return text.replace("\x00", "\ufffd")


def as_text(body: str | bytes | None) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode("utf-8", errors="replace")
    return body


def cap_text(text: str, cap_bytes: int) -> tuple[str, bool]:
    """Keep at most cap_bytes of UTF-8, never splitting a character; say if cut."""
    encoded = text.encode("utf-8", errors="replace")
    if len(encoded) <= cap_bytes:
        return text, False
    return encoded[: max(cap_bytes, 0)].decode("utf-8", errors="ignore"), True


def clean_body(body: str | bytes | None, key: str, cap_bytes: int) -> tuple[str, bool]:
    """Redact before capping, so a key straddling the cut cannot survive in part."""
    return cap_text(clean_text(redact_text(as_text(body), key)), cap_bytes)
