"""The New order form: recipient, lines and external ids, validated before anything is sent.

Lines are plain repeated fields (line-kind, line-id, line-count), not a Django formset, so
htmx can add and remove rows without renumbering anything.
"""

import re
import secrets
import uuid
from dataclasses import dataclass, field

from django import forms
from django.conf import settings
from django.http import QueryDict

from orderdesk.catalog.models import Item, Kit, Site, active_sites, orderable_items, orderable_kits
from orderdesk.orders import patients
from orderdesk.orders.models import LineKind, RecipientType

MAX_LINES = 50
MAX_EXTERNAL_IDS = 10
MAX_EXTERNAL_ID_LENGTH = 64
PRINTABLE = re.compile(r"^[\x20-\x7e\u00a0-\uffff]+$")
# ASCII digits only: Python's \d also matches other scripts' digits, which int() accepts.
INTEGER = re.compile(r"^\s*\d{1,9}\s*$", re.ASCII)


@dataclass
class LineRow:
    kind: str
    raw_id: str = ""
    raw_count: str = "1"
    impilo_id: int | None = None
    name: str = ""
    count: int = 0
    errors: list[str] = field(default_factory=list)
    # Unique per rendered row, so each <label for> points at its own field.
    uid: str = field(default_factory=lambda: secrets.token_hex(4))


class OrderHeaderForm(forms.Form):
    recipient_type = forms.ChoiceField(
        label="Ship to",
        choices=RecipientType.choices,
        widget=forms.RadioSelect,
        initial=RecipientType.PATIENT,
    )
    patient = forms.CharField(required=False, widget=forms.HiddenInput)
    site = forms.TypedChoiceField(
        label="Site to ship to", required=False, coerce=int, empty_value=None
    )
    external_ids = forms.CharField(
        label="External order IDs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"Optional: one per line, up to {MAX_EXTERNAL_IDS}, "
        f"each at most {MAX_EXTERNAL_ID_LENGTH} characters.",
    )
    form_token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        sites = active_sites().order_by("name").values_list("impilo_id", "name")
        self.fields["site"].choices = [("", "Choose a site…"), *sites]  # type: ignore[attr-defined]
        self.patient_choice: patients.PatientChoice | None = None
        self.site_obj: Site | None = None

    def clean_patient(self) -> str:
        token = self.cleaned_data.get("patient") or ""
        if token:
            self.patient_choice = patients.recall(token)
            if self.patient_choice is None:
                raise forms.ValidationError("Choose the patient again from the search results.")
            if not self.patient_choice.choosable:
                raise forms.ValidationError(
                    f"{self.patient_choice.name} cannot receive orders: "
                    f"{self.patient_choice.why_not.lower()}."
                )
        return token

    def clean_external_ids(self) -> list[str]:
        raw = self.cleaned_data.get("external_ids") or ""
        ids = [line.strip() for line in raw.splitlines() if line.strip()]
        if len(ids) > MAX_EXTERNAL_IDS:
            raise forms.ValidationError(f"At most {MAX_EXTERNAL_IDS} external order IDs.")
        for value in ids:
            if len(value) > MAX_EXTERNAL_ID_LENGTH:
                raise forms.ValidationError(
                    f"“{value[:20]}…” is longer than {MAX_EXTERNAL_ID_LENGTH} characters."
                )
            if not PRINTABLE.match(value):
                raise forms.ValidationError(
                    "External order IDs may not contain control characters."
                )
        duplicates = sorted({value for value in ids if ids.count(value) > 1})
        if duplicates:
            raise forms.ValidationError(f"Listed twice: {', '.join(duplicates)}.")
        return ids

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if "form_token" in self.errors:
            # A hidden field's error would otherwise be shown nowhere.
            self.add_error(None, "This form was altered or is out of date: open New order again.")
        kind = cleaned.get("recipient_type")
        if kind == RecipientType.PATIENT:
            if self.cleaned_data.get("site"):
                self.add_error("site", "Ship to a patient or a site, not both.")
            elif not cleaned.get("patient") and "patient" not in self.errors:
                self.add_error("patient", "Search for the patient and choose one.")
        elif kind == RecipientType.SITE:
            if cleaned.get("patient"):
                self.add_error("patient", "Ship to a patient or a site, not both.")
            elif "site" in self.errors:
                pass
            elif not cleaned.get("site"):
                self.add_error("site", "Choose the site to ship to.")
            else:
                self.site_obj = active_sites().filter(impilo_id=cleaned["site"]).first()
                if self.site_obj is None:
                    self.add_error("site", "This site is not available for orders.")
        return cleaned


def new_token() -> str:
    return str(uuid.uuid4())


def read_lines(data: QueryDict) -> list[LineRow]:
    kinds, ids, counts = (data.getlist(name) for name in ("line-kind", "line-id", "line-count"))
    rows = []
    for index in range(min(max(len(kinds), len(ids), len(counts)), MAX_LINES + 1)):
        kind = kinds[index] if index < len(kinds) else ""
        rows.append(
            LineRow(
                kind=kind if kind in LineKind.values else LineKind.ITEM,
                raw_id=ids[index].strip() if index < len(ids) else "",
                raw_count=counts[index].strip() if index < len(counts) else "",
            )
        )
    return rows


def validate_lines(rows: list[LineRow], *, to_site: bool) -> list[str]:
    """Fill each row's errors; return errors about the lines as a whole."""
    if not rows:
        return ["Add at least one item or kit."]
    if len(rows) > MAX_LINES:
        return [f"An order can have at most {MAX_LINES} lines."]
    items = {i.impilo_id: i for i in orderable_items()}
    kits = {k.impilo_id: k for k in Kit.objects.filter(pk__in=orderable_kits().values("pk"))}
    seen: dict[tuple[str, int], int] = {}
    for number, row in enumerate(rows, start=1):
        _check_row(row, items if row.kind == LineKind.ITEM else kits)
        if row.impilo_id is not None:
            key = (row.kind, row.impilo_id)
            if key in seen:
                row.errors.append(f"Already on line {seen[key]}: change that line's count instead.")
            seen.setdefault(key, number)
    return _loaner_errors(rows, kits, to_site=to_site)


def _check_row(row: LineRow, catalog: dict[int, Item] | dict[int, Kit]) -> None:
    noun = "item" if row.kind == LineKind.ITEM else "kit"
    if not row.raw_id:
        row.errors.append(f"Choose the {noun}.")
    elif not INTEGER.match(row.raw_id) or int(row.raw_id) not in catalog:
        row.errors.append(f"This {noun} is not available to order.")
    else:
        row.impilo_id = int(row.raw_id)
        row.name = catalog[row.impilo_id].name
    maximum = settings.ORDER_MAX_COUNT
    if not INTEGER.match(row.raw_count) or not 1 <= int(row.raw_count) <= maximum:
        row.errors.append(f"Count must be a whole number from 1 to {maximum}.")
    else:
        row.count = int(row.raw_count)


def _loaner_errors(rows: list[LineRow], kits: dict[int, Kit], *, to_site: bool) -> list[str]:
    """Impilo's loaner-kit rules, checked before anything is sent
    (docs/impilo.md#the-documented-rejection-messages)."""
    loaners = [
        r
        for r in rows
        if r.kind == LineKind.KIT and r.impilo_id in kits and kits[r.impilo_id].is_loaner
    ]
    errors = []
    if loaners and to_site:
        errors.append("Loaner kits ship only to patients, not to sites.")
    if len(loaners) > 1:
        errors.append("An order may contain at most one loaner kit.")
    for row in loaners:
        if row.count > 1:
            row.errors.append("A loaner kit's count must be 1.")
    return errors
