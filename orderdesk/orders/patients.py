"""The patient picker: search Impilo, and carry the chosen patient by an opaque reference.

The snapshot the coordinator saw in the search results stays on the server (in the cache);
the page, the form and every request carry only a random reference to it. A reference that
never came from a search, or has expired, finds nothing, so a tampered hidden field is
refused without asking Impilo again, and no URL or form field spells out a patient's name,
date of birth or identifier.
"""

import re
import secrets
from dataclasses import asdict, dataclass, field, replace
from datetime import date

from django.core.cache import cache

from orderdesk.accounts.models import User
from orderdesk.impilo.client import ImpiloClient
from orderdesk.impilo.types import Page, Patient

CACHE_PREFIX = "patient-choices:"
MAX_AGE_SECONDS = 12 * 3600
# "<22 random characters>.<position in the search results>"
REFERENCE = re.compile(r"^([A-Za-z0-9_-]{22})\.(\d{1,2})$")
RESULTS = 10
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class PatientChoice:
    id: int
    name: str
    date_of_birth: str
    external_id: str
    site_name: str
    city: str
    archived: bool
    enrolled: bool
    ref: str = field(default="", compare=False)  # set by remember(): what the page carries

    @property
    def choosable(self) -> bool:
        return not self.archived and self.enrolled

    @property
    def why_not(self) -> str:
        if self.archived:
            return "Archived in Impilo"
        if not self.enrolled:
            return "Not enrolled"
        return ""

    def remember(self) -> str:
        """Keep this snapshot on the server; return its opaque reference."""
        return remember_all([self])[0].ref


def _snapshot(choice: PatientChoice) -> dict[str, object]:
    data = asdict(choice)
    del data["ref"]
    return data


def remember_all(choices: list[PatientChoice]) -> list[PatientChoice]:
    """The choices with their references, all kept under one cache entry."""
    if not choices:
        return []
    batch = secrets.token_urlsafe(16)
    cache.set(CACHE_PREFIX + batch, [_snapshot(c) for c in choices], MAX_AGE_SECONDS)
    return [replace(choice, ref=f"{batch}.{i}") for i, choice in enumerate(choices)]


def choice_from_patient(patient: Patient) -> PatientChoice:
    name = " ".join(part for part in (patient.first_name, patient.last_name) if part)
    dob = patient.date_of_birth
    return PatientChoice(
        id=patient.id or 0,
        name=name or f"Patient {patient.id}",
        date_of_birth=dob.isoformat() if isinstance(dob, date) else (dob or ""),
        external_id=patient.external_identifier or "",
        site_name=(patient.site.name or "") if patient.site else "",
        city=(patient.address.city or "") if patient.address else "",
        archived=bool(patient.archived),
        enrolled=patient.enrolled is not False,
    )


def recall(ref: str) -> PatientChoice | None:
    """The snapshot a reference stands for, or None (malformed, unknown or expired)."""
    found = REFERENCE.match(ref or "")
    if not found:
        return None
    batch = cache.get(CACHE_PREFIX + found[1])
    index = int(found[2])
    if not isinstance(batch, list) or index >= len(batch):
        return None
    try:
        return PatientChoice(**batch[index], ref=ref)
    except TypeError:
        return None


def search(query: str, *, actor: User) -> list[PatientChoice]:
    """One box for name, external identifier or date of birth (YYYY-MM-DD)."""
    query = query.strip()[:100]
    with ImpiloClient(actor=actor) as client:
        page = _search_page(client, query)
    return remember_all([choice_from_patient(p) for p in page.content if p.id])


def _search_page(client: ImpiloClient, query: str) -> Page[Patient]:
    if DATE_RE.match(query):
        try:
            day = date.fromisoformat(query)
        except ValueError:
            return Page()
        return client.search_patients(date_of_birth_min=day, date_of_birth_max=day, size=RESULTS)
    if any(ch.isdigit() for ch in query) and " " not in query:
        return client.search_patients(external_identifier=query, size=RESULTS)
    return client.search_patients(name=query, size=RESULTS)
