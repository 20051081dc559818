from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError


class ThrottledAuthenticationForm(AuthenticationForm):
    """Sign-in that refuses further tries for a while after repeated failures.

    Counted per username and per client address, so neither guessing one account's
    password nor spraying many accounts from one address goes unchecked.
    """

    def _throttle_keys(self) -> list[str]:
        username = (self.data.get("username") or "").strip().lower()[:150]
        address = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        return [f"login-fail:user:{username}", f"login-fail:addr:{address}"]

    def clean(self) -> dict[str, object]:
        keys = self._throttle_keys()
        limit = settings.LOGIN_THROTTLE_ATTEMPTS
        if any((cache.get(key) or 0) >= limit for key in keys):
            minutes = max(1, settings.LOGIN_THROTTLE_SECONDS // 60)
            raise ValidationError(
                f"Too many failed sign-in attempts. Wait {minutes} minutes and try again.",
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            for key in keys:
                cache.set(key, (cache.get(key) or 0) + 1, settings.LOGIN_THROTTLE_SECONDS)
            raise
        cache.delete(keys[0])
        return cleaned
