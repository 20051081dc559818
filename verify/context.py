"""What every check is handed: the stack, the sizes, the people and the planted data."""

import secrets
from dataclasses import dataclass, field
from random import Random

from verify.config import Sizes
from verify.orders import Catalog, load_catalog
from verify.stack import PLANTED_KEY, Stack
from verify.web import Client

ROLES = ("coordinator", "support", "admin")
# A patient only orderdesk's patient pages and audit rows may show, never a log.
PLANTED_FIRST = "Zebulon"
# Letters only: a search with digits in it is taken for an external identifier.
PLANTED_LAST = "Quillfeather" + "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(6))
# Hostile data arriving from Impilo itself: markup and a spreadsheet formula in a name.
XSS_FIRST = '<img src=x onerror="alert(1)">Vfy'
XSS_LAST = '=HYPERLINK("http://x.invalid","Vfyxss")'


@dataclass
class Context:
    stack: Stack
    sizes: Sizes
    passwords: dict[str, str]
    catalog: Catalog | None = None
    rng: Random = field(default_factory=lambda: Random(20261126))
    # Every problem a check found, beyond the few the table has room for.
    details: dict[str, list[str]] = field(default_factory=dict)

    planted_key = PLANTED_KEY
    planted_name = f"{PLANTED_FIRST} {PLANTED_LAST}"

    def username(self, role: str) -> str:
        return f"vfy-{role}"

    def client(self, role: str) -> Client:
        client = Client(self.stack.base_url, role)
        if role != "anonymous":
            client.login(self.username(role), self.passwords[role])
        return client

    def ensure_catalog(self) -> Catalog:
        if self.catalog is None:
            self.catalog = load_catalog(self.client("coordinator"), [PLANTED_LAST, "an"])
        return self.catalog


def create_people() -> dict[str, str]:
    from django.contrib.auth.models import Group

    from orderdesk.accounts.models import User
    from orderdesk.accounts.roles import ensure_role_groups

    ensure_role_groups()
    passwords = {}
    for role in ROLES:
        password = secrets.token_urlsafe(16)
        user = User.objects.create_user(
            username=f"vfy-{role}", password=password, first_name=role.capitalize()
        )
        user.groups.add(Group.objects.get(name=role))
        user.is_staff = role == "admin"
        user.save()
        passwords[role] = password
    return passwords


def plant_patients() -> None:
    """The planted patient, and one whose name is hostile markup and a formula."""
    from orderdesk.sandbox.models import Patient, Site

    site = Site.objects.filter(active=True).order_by("id").first()
    for first, last in ((PLANTED_FIRST, PLANTED_LAST), (XSS_FIRST, XSS_LAST)):
        Patient.objects.create(
            first_name=first,
            last_name=last,
            external_identifier=f"VFY-{secrets.token_hex(4)}",
            enrolled=True,
            archived=False,
            site=site,
            city="Verifyville",
        )
