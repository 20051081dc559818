"""What an audit row may keep: the API key never (in any encoding), bodies only up to a cap.

Pure functions, so the rules are testable without a database and the model stays short.
"""

import re
from collections.abc import Mapping
from functools import lru_cache

from django.views.decorators.debug import sensitive_variables

REDACTED = "[REDACTED]"
API_KEY_HEADER = "Impilo-API-Key"


def _char_forms(char: str) -> list[str]:
    """Every spelling of one character of the key, as regular expressions: itself,
    percent-encoded (also twice), a JSON/JavaScript escape, an HTML character reference."""
    code = ord(char)
    encoded = "".join(f"%(?:25)?{byte:02x}" for byte in char.encode("utf-8"))
    forms = [re.escape(char), encoded, rf"&#0*{code};", rf"&#x0*{code:x};"]
    if code <= 0xFFFF:
        forms.append(rf"\\u{code:04x}")
    if code <= 0xFF:
        forms.append(rf"\\x{code:02x}")
    if char in '/"\\':
        forms.append(re.escape("\\" + char))
    if char == " ":
        forms.append(r"\+")
    return forms


@lru_cache(maxsize=8)
@sensitive_variables()
def _key_pattern(key: str) -> re.Pattern[str]:
    """The key in any of those spellings, character by character, in any letter case
    (of the key and of hex digits alike)."""
    parts = ["(?:" + "|".join(_char_forms(char)) + ")" for char in key]
    return re.compile("".join(parts), re.IGNORECASE)


@sensitive_variables()
def redact_text(text: str, key: str) -> str:
    """The text with every occurrence of the key, however it is encoded, replaced."""
    if not key or not text:
        return text
    return _key_pattern(key).sub(REDACTED, text)


@sensitive_variables()
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


@sensitive_variables()
def clean_body(body: str | bytes | None, key: str, cap_bytes: int) -> tuple[str, bool]:
    """Redact before capping, so a key straddling the cut cannot survive in part."""
    return cap_text(clean_text(redact_text(as_text(body), key)), cap_bytes)
