"""A per-person budget of Impilo calls made on a person's behalf (patient search, "Check
Impilo now", the status refresh), so one person cannot use up the organisation's Impilo
rate. The worker's own sending and syncing never ask here: they are never limited.

A fixed window per person in the shared cache: at most IMPILO_CALLS_PER_PERSON_PER_MINUTE
calls in each clock minute. The database cache's increment is not atomic, so a person's
simultaneous requests may pass a few over the limit; it is a guard against one busy tab
or script, not an exact quota.
"""

import time

from django.conf import settings
from django.core.cache import cache

from orderdesk.accounts.models import User

WINDOW_SECONDS = 60
CACHE_PREFIX = "impilo-calls-by:"


def limit_message(seconds_left: int) -> str:
    return (
        f"You have reached your limit of {settings.IMPILO_CALLS_PER_PERSON_PER_MINUTE} "
        f"Impilo requests a minute. Try again in {seconds_left} seconds; orders already "
        "submitted keep being sent meanwhile."
    )


def take_impilo_call(user: User) -> str:
    """Count one call for this person: "" if it may go ahead, else the message to show."""
    limit = settings.IMPILO_CALLS_PER_PERSON_PER_MINUTE
    if limit <= 0:
        return ""  # switched off
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    key = f"{CACHE_PREFIX}{user.pk}:{window}"
    cache.add(key, 0, WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: this is the window's first call
        cache.set(key, 1, WINDOW_SECONDS * 2)
        count = 1
    if count <= limit:
        return ""
    return limit_message(max(1, int((window + 1) * WINDOW_SECONDS - now)))
