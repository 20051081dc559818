"""The Orders search text never travels in a URL: it is posted, kept on the server (in the
cache) under a random key, and the page's links, pushed history and redirects carry only
that key (`search_id`). The other filters stay in the URL, so a filtered list can still
be bookmarked; a bookmarked search lasts as long as its key (MAX_AGE_SECONDS).
"""

import re
import secrets
from typing import Any

from django.core.cache import cache
from django.http import QueryDict

PARAMETER = "search_id"
CACHE_PREFIX = "order-search:"
MAX_AGE_SECONDS = 12 * 3600
KEY = re.compile(r"^[A-Za-z0-9_-]{22}$")
EXPIRED = "The saved search has expired: type it again."
MAX_TEXT = 200  # the search field's own limit: longer text is refused by the form, not kept


def save(text: str) -> str:
    """The key `text` is kept under ("" for text too long to be a search)."""
    if len(text) > MAX_TEXT:
        return ""
    key = secrets.token_urlsafe(16)
    cache.set(CACHE_PREFIX + key, text, MAX_AGE_SECONDS)
    return key


def load(key: str) -> str | None:
    if not KEY.match(key):
        return None
    text = cache.get(CACHE_PREFIX + key)
    return text if isinstance(text, str) else None


def filter_params(source: QueryDict) -> tuple[QueryDict, str, list[str]]:
    """The filters to read (with the search text, `q`, put back from its key), the key,
    and any problem to show. A plain `q` in the address (an old bookmark) is still read,
    and kept under a key too, so that this page's own links do not repeat it."""
    params = source.copy()
    key = str(params.pop(PARAMETER, [""])[-1] or "")
    if not key:
        typed = " ".join(params.get("q", "").split())
        return params, save(typed) if typed else "", []
    kept = load(key)
    if kept is None:
        params.pop("q", None)
        return params, "", [EXPIRED]
    params["q"] = kept
    return params, key, []


def posted_params(source: QueryDict) -> tuple[QueryDict, str]:
    """A posted filter form: its filters, and the key its search text is now kept under."""
    params = source.copy()
    params.pop("csrfmiddlewaretoken", None)
    text = " ".join(params.get("q", "").split())
    return params, save(text) if text else ""


def with_key(data: dict[str, Any], key: str) -> dict[str, Any]:
    """Valid filter data that links carry: the key in place of the search text."""
    return {**data, PARAMETER: key if data.get("q") else ""}
