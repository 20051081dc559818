"""Sign-in through the organisation's OpenID Connect provider (mozilla-django-oidc).

The library runs the authorization-code flow (state, nonce and PKCE kept in the session,
the code exchanged at the token endpoint, the signing key taken from the provider's JWKS).
This module adds what orderdesk needs on top:
- endpoints found by discovery from OIDC_ISSUER alone, fetched once and kept for an hour;
- the ID token checked in full: signature, issuer, audience, expiry and nonce;
- the account found by (issuer, sub), never by email, and its role set at every sign-in
  from the provider's groups (OIDC_ROLE_MAP); no mapped group means no access.
Every refusal raises SignInRefused, which the callback view records and shows.
"""

import logging
import re
import threading
import time
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from orderdesk.accounts import roles
from orderdesk.accounts.models import OIDCIdentity, User
from orderdesk.accounts.oidc_config import issuer_is_allowed

logger = logging.getLogger(__name__)

DISCOVERY_TTL_SECONDS = 3600
# Asymmetric signatures only: with HS256 the "key" would be our own client secret.
SIGNING_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]
# Tolerated clock difference between the provider and us when checking exp and iat.
CLOCK_SKEW_SECONDS = 60
ROLE_ORDER = (roles.ADMIN, roles.SUPPORT, roles.COORDINATOR)  # the highest role wins

_discovered: dict[str, tuple[float, dict[str, Any]]] = {}
_discovery_lock = threading.Lock()


class SignInRefused(Exception):
    """A sign-in at the provider that orderdesk refuses. `reason` goes to the sign-in log
    (for admins); the person sees only a plain message chosen by `kind`."""

    def __init__(self, reason: str, *, kind: str = "failed", who: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind  # "failed" (try again), "no_role" or "disabled"
        self.who = who


def enabled() -> bool:
    return bool(settings.OIDC_ISSUER)


def discovery() -> dict[str, Any]:
    """The provider's metadata from /.well-known/openid-configuration, cached per process."""
    issuer = settings.OIDC_ISSUER
    if not issuer_is_allowed(issuer, settings.DEBUG):
        raise SignInRefused("OIDC_ISSUER is plain http in production; nothing was sent to it")
    with _discovery_lock:
        cached = _discovered.get(issuer)
        if cached and time.monotonic() - cached[0] < DISCOVERY_TTL_SECONDS:
            return cached[1]
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        metadata = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise SignInRefused(f"provider discovery failed ({type(exc).__name__})") from exc
    check_metadata(issuer, metadata)
    with _discovery_lock:
        _discovered[issuer] = (time.monotonic(), metadata)
    return dict(metadata)


def check_metadata(issuer: str, metadata: Any) -> None:
    if not isinstance(metadata, dict) or metadata.get("issuer") != issuer:
        raise SignInRefused("provider discovery names another issuer than OIDC_ISSUER")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        url = metadata.get(name)
        if not isinstance(url, str) or not issuer_is_allowed(url, settings.DEBUG):
            raise SignInRefused(f"provider discovery has no usable {name}")


def forget_discovery() -> None:
    with _discovery_lock:
        _discovered.clear()


def role_for(groups: Any) -> str:
    """The highest orderdesk role any of the person's groups maps to, or ""."""
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        return ""
    mapped = {settings.OIDC_ROLE_MAP.get(group) for group in groups if isinstance(group, str)}
    return next((role for role in ROLE_ORDER if role in mapped), "")


def describe(claims: dict[str, Any]) -> str:
    """Who the provider says this is, for the sign-in log."""
    name = claims.get("preferred_username") or claims.get("email") or ""
    return f"{name} (sub {claims.get('sub', '?')})" if name else f"sub {claims.get('sub', '?')}"


class OIDCBackend(OIDCAuthenticationBackend):  # type: ignore[misc]  # the library is untyped
    """The library's backend with discovered endpoints and orderdesk's account rules."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Nothing is fetched here: Django builds backends for every sign-in, password too.
        self.UserModel = User

    def authenticate(self, request: Any, **kwargs: Any) -> User | None:
        if not enabled() or request is None or "code_verifier" not in kwargs:
            return None
        metadata = discovery()
        self.OIDC_OP_TOKEN_ENDPOINT = metadata["token_endpoint"]
        self.OIDC_OP_USER_ENDPOINT = metadata.get("userinfo_endpoint")
        self.OIDC_OP_JWKS_ENDPOINT = metadata["jwks_uri"]
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        try:
            user: User | None = super().authenticate(request, **kwargs)
            return user
        except requests.HTTPError as exc:
            raise SignInRefused(f"provider refused the code exchange: {_oauth_error(exc)}") from exc
        except requests.RequestException as exc:
            raise SignInRefused(f"provider unreachable ({type(exc).__name__})") from exc

    def get_user(self, user_id: Any) -> User | None:
        # The library's own get_user skips the is_active check: a deactivated person's
        # other sessions must end too.
        user = User.objects.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    def retrieve_matching_jwk(self, token: str) -> jwt.PyJWK:
        """The provider's published signing key for this token: the one its `kid` names,
        or the only one there is if the token names none."""
        response = requests.get(self.OIDC_OP_JWKS_ENDPOINT, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        try:
            keys = [key for key in response.json()["keys"] if key.get("use", "sig") == "sig"]
            kid = jwt.get_unverified_header(token).get("kid")
        except (ValueError, KeyError, TypeError, AttributeError, jwt.PyJWTError) as exc:
            raise SignInRefused("unreadable JWKS or ID token header") from exc
        matching = [key for key in keys if key.get("kid") == kid] if kid else keys
        if len(matching) != 1:
            raise SignInRefused("ID token signed with a key the provider does not publish")
        try:
            return jwt.PyJWK(matching[0])
        except jwt.PyJWTError as exc:
            raise SignInRefused("the provider publishes an unusable signing key") from exc

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        if not isinstance(token, str) or not token:
            raise SignInRefused("the provider's token response has no ID token")
        payload = self._verify_jws(token, self.retrieve_matching_jwk(token))
        if "nonce" in kwargs and (not kwargs["nonce"] or payload.get("nonce") != kwargs["nonce"]):
            raise SignInRefused("ID token nonce does not match this sign-in")
        return payload

    def _verify_jws(self, token: str, key: Any) -> dict[str, Any]:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            if algorithm not in SIGNING_ALGORITHMS:
                raise SignInRefused(f"ID token uses a refused algorithm ({str(algorithm)[:10]})")
            payload: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=settings.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_ISSUER,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise SignInRefused("ID token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise SignInRefused("ID token is for another audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise SignInRefused("ID token is from another issuer") from exc
        except jwt.InvalidSignatureError as exc:
            raise SignInRefused("ID token signature does not verify") from exc
        except jwt.PyJWTError as exc:
            raise SignInRefused(f"ID token refused ({type(exc).__name__})") from exc
        audiences = payload["aud"] if isinstance(payload["aud"], list) else [payload["aud"]]
        if len(audiences) > 1 and payload.get("azp") != settings.OIDC_RP_CLIENT_ID:
            raise SignInRefused("ID token has several audiences and is not issued to us")
        return payload

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        """The ID token's claims, completed by the userinfo endpoint where there is one."""
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            userinfo = super().get_userinfo(access_token, id_token, payload)
            if not isinstance(userinfo, dict) or userinfo.get("sub") != payload["sub"]:
                raise SignInRefused("userinfo is about another subject than the ID token")
            claims.update(userinfo)
        claims["sub"], claims["iss"] = payload["sub"], payload["iss"]
        return claims

    def get_or_create_user(self, access_token: str, id_token: str, payload: Any) -> User:
        claims = self.get_userinfo(access_token, id_token, payload)
        role = role_for(claims.get(settings.OIDC_GROUPS_CLAIM))
        identity = (
            OIDCIdentity.objects.select_related("user")
            .filter(issuer=claims["iss"], subject=claims["sub"])
            .first()
        )
        if not role:
            if identity is not None:
                lapse(identity)
            raise SignInRefused(
                "no group that maps to a role", kind="no_role", who=describe(claims)
            )
        if identity is not None and not identity.user.is_active and not identity.role_lapsed:
            raise SignInRefused(
                "account deactivated in orderdesk", kind="disabled", who=describe(claims)
            )
        return update_account(identity, claims, role)


def lapse(identity: OIDCIdentity) -> None:
    """Removed from every mapped group: no role, no access, sessions end."""
    with transaction.atomic():
        user = identity.user
        user.groups.clear()
        if user.is_active:
            user.is_active = False
            identity.role_lapsed = True
            identity.save(update_fields=["role_lapsed"])
        user.is_staff = user.is_superuser = False
        user.save(update_fields=["is_active", "is_staff", "is_superuser"])


@transaction.atomic
def update_account(identity: OIDCIdentity | None, claims: dict[str, Any], role: str) -> User:
    """Create or refresh the account from the claims; the role is the provider's alone."""
    if identity is None:
        user = User(username=free_username(claims))
        user.set_unusable_password()
    else:
        user = identity.user
    user.first_name, user.last_name = names_from(claims)
    user.email = str(claims.get("email") or "")[:254]
    user.is_active = True
    user.is_staff = role == roles.ADMIN  # Django's admin is where admins manage people
    user.is_superuser = False
    user.save()
    roles.ensure_role_groups()
    user.groups.set([Group.objects.get(name=role)])
    if identity is None:
        OIDCIdentity.objects.create(user=user, issuer=claims["iss"], subject=claims["sub"])
    elif identity.role_lapsed:
        identity.role_lapsed = False
        identity.save(update_fields=["role_lapsed"])
    return user


def names_from(claims: dict[str, Any]) -> tuple[str, str]:
    given, family = claims.get("given_name"), claims.get("family_name")
    if isinstance(given, str) or isinstance(family, str):
        return str(given or "")[:150], str(family or "")[:150]
    return str(claims.get("name") or "")[:150], ""


def free_username(claims: dict[str, Any]) -> str:
    """A readable, unused username; only for display, never used to find the account."""
    wanted = str(claims.get("preferred_username") or claims.get("email") or claims["sub"])
    # Only the characters Django's username rule allows, so the admin can still edit it.
    base = re.sub(r"[^\w.@+-]", "_", wanted)[:140]
    username, n = base, 1
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{base}-{n}"
    return username


def _oauth_error(exc: requests.HTTPError) -> str:
    try:
        code = exc.response.json().get("error", "")
    except (ValueError, AttributeError):
        code = ""
    status = exc.response.status_code if exc.response is not None else "?"
    return f"HTTP {status} {str(code)[:40]}".strip()
