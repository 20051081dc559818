"""The filters of the list endpoints (List Patients, List Kits), from query parameters."""

from django.db.models import QuerySet
from django.http import HttpRequest

from orderdesk.sandbox.api import ApiError, bool_param, date_param, int_list_param
from orderdesk.sandbox.models import Kit, Patient
from orderdesk.sandbox.serializers import kit_queryset

PATIENT_SORTS = {"firstName": "first_name", "lastName": "last_name", "patientId": "id"}


def patients(request: HttpRequest) -> QuerySet[Patient]:
    params = request.GET
    queryset = Patient.objects.select_related("site")
    name = " ".join(params.get("name", "").split()).casefold()
    if name:
        # name_search is casefold("first last"): a substring of it matches first, last or both.
        queryset = queryset.filter(name_search__contains=name)
    external = [value.strip() for value in params.getlist("externalIdentifier") if value.strip()]
    if external:
        queryset = queryset.filter(external_identifier__in=external)
    if ids := int_list_param(request, "id"):
        queryset = queryset.filter(id__in=ids)
    if site_ids := int_list_param(request, "siteId"):
        queryset = queryset.filter(site_id__in=site_ids)
    if email := params.get("email", "").strip():
        queryset = queryset.filter(email=email.lower())  # stored lower-case: uses the index
    for flag in ("archived", "enrolled"):
        value = bool_param(request, flag)
        if value is not None:
            queryset = queryset.filter(**{flag: value})
    if born_after := date_param(request, "dateOfBirthMin"):
        queryset = queryset.filter(date_of_birth__gte=born_after)
    if born_before := date_param(request, "dateOfBirthMax"):
        queryset = queryset.filter(date_of_birth__lte=born_before)
    if postal_code := params.get("postalCode", "").strip():
        queryset = queryset.filter(zip_code=postal_code)
    if country := params.get("country", "").strip():
        queryset = queryset.filter(country__iexact=country)
    return queryset.order_by(*_patient_order(request))


def _patient_order(request: HttpRequest) -> list[str]:
    sort = request.GET.get("sort", "").strip() or "patientId"
    if sort not in PATIENT_SORTS:
        raise ApiError(400, f"sort must be one of {', '.join(PATIENT_SORTS)}, got {sort!r}")
    prefix = "-" if bool_param(request, "sortDescending") else ""
    fields = [PATIENT_SORTS[sort]] + (["id"] if sort != "patientId" else [])
    return [prefix + field for field in fields]


def kits(request: HttpRequest) -> QuerySet[Kit]:
    queryset = kit_queryset()
    item_ids = int_list_param(request, "itemId")
    if item_ids:
        queryset = queryset.filter(kit_items__item_id__in=item_ids).distinct()
    archived = bool_param(request, "archived")
    if archived is not None:
        queryset = queryset.filter(archived=archived)
    return queryset.order_by("id")
