"""The patient picker: search Impilo, and carry the chosen patient in a signed token.

The token holds the snapshot the coordinator saw in the search results, signed by us, so a
tampered hidden field (an id that never came from a search) is refused without asking
Impilo again.
"""

import re
from dataclasses import asdict, dataclass
from datetime import date

from django.core import signing

from orderdesk.accounts.models import User
from orderdesk.impilo.client import ImpiloClient
from orderdesk.impilo.types import Page, Patient

SALT = "orderdesk.orders.patient-choice"
MAX_AGE_SECONDS = 12 * 3600
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

    def sign(self) -> str:
        return signing.dumps(asdict(self), salt=SALT, compress=True)


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


def unsign(token: str) -> PatientChoice | None:
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
        return PatientChoice(**data)
    except (signing.BadSignature, TypeError, ValueError):
        return None


def search(query: str, *, actor: User) -> list[PatientChoice]:
    """One box for name, external identifier or date of birth (YYYY-MM-DD)."""
    query = query.strip()[:100]
    with ImpiloClient(actor=actor) as client:
        page = _search_page(client, query)
    return [choice_from_patient(p) for p in page.content if p.id]


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
