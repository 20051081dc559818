"""Sign-in throttling, shared by every door that signs people in through Django's
`authenticate()`: /accounts/login/, /admin/login/, and any added later.

django-axes provides the hooks (settings: AXES_*): its backend, first in
AUTHENTICATION_BACKENDS, asks this handler before any other backend checks a password; its
signal receivers report failures and sign-ins here; its middleware turns a refusal into the
lockout page. This handler keeps the counts, one SignInBudget row per key:

- per username, normalised as Django normalises it (NFKC) and case-folded, so look-alike
  spellings share one budget: LOGIN_THROTTLE_ATTEMPTS checked passwords per window, from
  any address;
- per client address: ADDRESS_ALLOWANCE times as many, for any usernames, so colleagues
  behind one office NAT may make a few typos each, and a sprayer is stopped. Another
  address is never affected: there is no site-wide lock.

An attempt is reserved *before* its password is checked, by one conditional UPDATE per
budget: however many requests arrive at once, at most the limit get checked. A window ends
LOGIN_THROTTLE_SECONDS after the last checked attempt; refused attempts do not extend it.
A successful sign-in empties its username's budget and gives back its own reservation on
the address budget, never the address's earlier failures (or a sprayer could clear them by
signing in to an account of their own between rounds).
"""

import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from operator import attrgetter
from typing import Any

from axes.handlers.base import AbstractAxesHandler, AxesBaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.signals import user_locked_out
from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.http import HttpRequest
from django.utils import timezone

from orderdesk.accounts.models import SignInBudget

ADDRESS_ALLOWANCE = 4
USERNAME_MAX = 150
ADDRESS_MAX = 45  # the longest IPv6 text form
# Request attributes: the budgets this request reserved, and whether it was refused.
RESERVED = "signin_reserved"
REFUSED = "signin_refused"


@dataclass(frozen=True)
class Budget:
    key: str
    limit: int


def normalise_username(value: object) -> str:
    """NFKC (as Django's sign-in form does) and case-folded: `ｃoordinator` and
    `Coordinator` count as `coordinator`."""
    folded = unicodedata.normalize("NFKC", str(value)).casefold()
    return unicodedata.normalize("NFKC", folded).strip()[:USERNAME_MAX]


def username_of(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the normalised username of an attempt, if it names one."""
    raw = (credentials or {}).get("username")
    if raw is None and request is not None and request.method == "POST":
        raw = request.POST.get("username")
    return normalise_username(raw) if raw else None


def client_address(request: HttpRequest) -> str:
    """AXES_CLIENT_IP_CALLABLE: the caller's address. Behind our TLS proxy
    (BEHIND_TLS_PROXY) it is the last X-Forwarded-For hop, the one our proxy added;
    anything before it was sent by the client and proves nothing."""
    if settings.BEHIND_TLS_PROXY:
        forwarded = str(request.headers.get("x-forwarded-for", ""))
        if hop := forwarded.split(",")[-1].strip():
            return hop
    return str(request.META.get("REMOTE_ADDR", ""))


def failure_limit(request: HttpRequest | None, credentials: object = None) -> int:
    """AXES_FAILURE_LIMIT."""
    return int(settings.LOGIN_THROTTLE_ATTEMPTS)


def window(request: HttpRequest | None = None) -> timedelta:
    """AXES_COOLOFF_TIME."""
    return timedelta(seconds=settings.LOGIN_THROTTLE_SECONDS)


def budgets_for(request: HttpRequest, credentials: dict[str, Any] | None) -> list[Budget]:
    limit = get_failure_limit(request, credentials)
    # Within the key column, whatever a misconfigured proxy passes on.
    address = str(getattr(request, "axes_ip_address", "") or "")[:ADDRESS_MAX]
    budgets = [Budget(f"addr:{address}", limit * ADDRESS_ALLOWANCE)]
    username = get_client_username(request, credentials)
    if username:
        budgets.append(Budget(f"user:{username}", limit))
    return budgets


class _Refused(Exception):
    pass


def reserve(budgets: list[Budget], window: timedelta) -> bool:
    """Take one attempt from every budget, or from none if any is used up."""
    now = timezone.now()
    ordered = sorted(budgets, key=attrgetter("key"))  # one lock order: no deadlocks
    try:
        with transaction.atomic():
            SignInBudget.objects.bulk_create(
                [SignInBudget(key=b.key, window_ends=now) for b in ordered], ignore_conflicts=True
            )
            for budget in ordered:
                over = Q(window_ends__lte=now)
                taken = (
                    SignInBudget.objects.filter(key=budget.key)
                    .filter(over | Q(used__lt=budget.limit))
                    .update(
                        used=Case(When(over, then=Value(1)), default=F("used") + 1),
                        window_ends=now + window,
                    )
                )
                if not taken:
                    raise _Refused
    except _Refused:
        return False
    return True


def used_up(budgets: list[Budget]) -> bool:
    current = dict(
        SignInBudget.objects.filter(
            key__in=[b.key for b in budgets], window_ends__gt=timezone.now()
        ).values_list("key", "used")
    )
    return any(current.get(b.key, 0) >= b.limit for b in budgets)


class SignInThrottle(AbstractAxesHandler, AxesBaseHandler):  # type: ignore[misc]  # untyped
    """AXES_HANDLER: django-axes' handler interface over SignInBudget."""

    def is_allowed(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        """Called by the axes backend before any password is checked: reserves the attempt."""
        if self.is_blacklisted(request, credentials):
            setattr(request, REFUSED, True)
            return False
        if self.is_whitelisted(request, credentials):
            return True
        budgets = budgets_for(request, credentials)
        if not reserve(budgets, get_cool_off(request) or timedelta(0)):
            setattr(request, REFUSED, True)
            return False
        setattr(request, RESERVED, budgets)
        return True

    def is_locked(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        return used_up(budgets_for(request, credentials))

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        keys = [b.key for b in budgets_for(request, credentials)]
        rows = SignInBudget.objects.filter(key__in=keys, window_ends__gt=timezone.now())
        return max(rows.values_list("used", flat=True), default=0)

    def user_login_failed(
        self,
        sender: Any,
        credentials: dict[str, Any],
        request: HttpRequest | None = None,
        **kwargs: Any,
    ) -> None:
        """The attempt was counted when reserved. One refused unchecked gets the lockout
        page; one checked and wrong gets the form's error, even if it used up a budget, so
        that a 200 answer always means a password was checked."""
        if request is None or not getattr(request, REFUSED, False):
            return
        request.axes_locked_out = True  # type: ignore[attr-defined]
        request.axes_credentials = credentials  # type: ignore[attr-defined]
        user_locked_out.send(
            "axes",
            request=request,
            username=get_client_username(request, credentials),
            ip_address=getattr(request, "axes_ip_address", None),
        )

    def user_logged_in(self, sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
        SignInBudget.objects.filter(key=f"user:{normalise_username(user.get_username())}").delete()
        for budget in getattr(request, RESERVED, []):
            if budget.key.startswith("addr:"):
                SignInBudget.objects.filter(key=budget.key, used__gt=0).update(used=F("used") - 1)

    def user_logged_out(self, sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
        pass

    def reset_attempts(
        self,
        *,
        ip_address: str | None = None,
        username: str | None = None,
        ip_or_username: bool = False,
    ) -> int:
        """For `manage.py axes_reset`, `axes_reset_ip`, `axes_reset_username`."""
        keys = []
        if ip_address:
            keys.append(f"addr:{ip_address}")
        if username:
            keys.append(f"user:{normalise_username(username)}")
        budgets = SignInBudget.objects.all()
        if keys:
            budgets = budgets.filter(key__in=keys)
        count, _ = budgets.delete()
        return count
