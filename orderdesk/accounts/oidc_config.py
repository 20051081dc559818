"""Reading the OpenID Connect settings from the environment (used by settings.py).

Pure functions with no Django imports beyond ImproperlyConfigured, so the settings module
can call them before the apps are loaded. Each error names the variable to fix.
"""

import ipaddress
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

ROLES = ("coordinator", "support", "admin")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def issuer_is_allowed(issuer: str, debug: bool) -> bool:
    """https always; plain http only for a provider on this machine or in DEBUG (demo,
    tests): tokens and codes must never cross a network unencrypted."""
    parts = urlsplit(issuer)
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and (debug or is_loopback(parts.hostname or ""))


def check_issuer(issuer: str, debug: bool) -> None:
    parts = urlsplit(issuer)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ImproperlyConfigured(
            f"OIDC_ISSUER must be the provider's issuer URL (https://…), got {issuer!r}"
        )
    if not issuer_is_allowed(issuer, debug):
        raise ImproperlyConfigured(
            "OIDC_ISSUER must be an https:// URL when DEBUG is off "
            "(plain http is only accepted for a provider on this machine)."
        )


def parse_role_map(value: str) -> dict[str, str]:
    """`group:role,group:role` → {group: role}; every role one of orderdesk's three."""
    mapping: dict[str, str] = {}
    for entry in value.split(","):
        if not entry.strip():
            continue
        group, sep, role = entry.strip().rpartition(":")
        group, role = group.strip(), role.strip()
        if not sep or not group or role not in ROLES:
            raise ImproperlyConfigured(
                f"OIDC_ROLE_MAP entries must be group:role with role one of "
                f"{', '.join(ROLES)}; got {entry.strip()!r}"
            )
        mapping[group] = role
    return mapping


def require_for_oidc(name: str, value: object) -> None:
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when OIDC_ISSUER is set.")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
