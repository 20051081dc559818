from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest

# One address may fail this many times more than one username: colleagues behind one
# office NAT share an address, and a few typos between them must not lock everyone out.
ADDRESS_ALLOWANCE = 4


def client_address(request: HttpRequest) -> str:
    """The caller's address; behind our TLS proxy, the last X-Forwarded-For hop it added."""
    if settings.BEHIND_TLS_PROXY:
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        hops = [hop.strip() for hop in forwarded.split(",")]
        if hops[-1]:
            return hops[-1]
    return str(request.META.get("REMOTE_ADDR", ""))


class ThrottledAuthenticationForm(AuthenticationForm):
    """Sign-in that refuses further tries for a while after repeated failures.

    Counted per username and per client address, so neither guessing one account's
    password nor spraying many accounts from one address goes unchecked.
    """

    def _throttle_limits(self) -> dict[str, int]:
        username = (self.data.get("username") or "").strip().lower()[:150]
        address = client_address(self.request) if self.request else ""
        limit = settings.LOGIN_THROTTLE_ATTEMPTS
        return {
            f"login-fail:user:{username}": limit,
            f"login-fail:addr:{address}": limit * ADDRESS_ALLOWANCE,
        }

    def clean(self) -> dict[str, object]:
        limits = self._throttle_limits()
        if any((cache.get(key) or 0) >= limit for key, limit in limits.items()):
            minutes = max(1, settings.LOGIN_THROTTLE_SECONDS // 60)
            raise ValidationError(
                f"Too many failed sign-in attempts. Wait {minutes} minutes and try again.",
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            for key in limits:
                cache.set(key, (cache.get(key) or 0) + 1, settings.LOGIN_THROTTLE_SECONDS)
            raise
        # Only the username's count: signing in to one's own account must not reset
        # the address's count, or a sprayer could clear it between rounds.
        cache.delete(next(iter(limits)))
        return cleaned
