"""List / search patients and the Page wrapper's edge cases (docs/impilo.md#paging).

The first test goes over real HTTP; the filter tables use the in-process client (faster).
"""

from datetime import date

import pytest

from orderdesk.sandbox.models import Patient


def ids_of(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [patient["id"] for patient in response.json()["content"]]


def test_patients_are_listed_15_to_a_page_by_id(api) -> None:
    page = api.get("/patient").json()

    assert page["size"] == 15
    assert page["total"] == 60
    assert (page["first"], page["last"]) == (True, False)
    assert [p["id"] for p in page["content"]] == list(range(48001, 48016))
    patient = page["content"][0]
    assert set(patient) == {
        "id",
        "externalIdentifier",
        "firstName",
        "lastName",
        "dateOfBirth",
        "email",
        "phoneNumber",
        "archived",
        "address",
        "site",
        "enrolled",
        "sex",
    }
    assert patient["externalIdentifier"] == "crm-000001"
    assert date.fromisoformat(patient["dateOfBirth"])
    assert patient["site"]["id"]


def test_the_name_filter_matches_first_last_or_full_name_in_any_case(local_api) -> None:
    patient = Patient.objects.get(pk=48001)
    matching = lambda words: sorted(  # noqa: E731
        p.pk for p in Patient.objects.all() if words.casefold() in p.name_search
    )

    for query in (
        patient.first_name,
        patient.last_name,
        f"{patient.first_name} {patient.last_name}",
    ):
        found = ids_of(local_api.get("/patient", name=query.upper(), size=250))
        assert 48001 in found
        assert found == matching(query)


def test_the_name_filter_handles_accents_and_apostrophes(local_api) -> None:
    accented = next(
        p
        for p in Patient.objects.order_by("id")
        if not p.last_name.isascii() or not p.first_name.isascii()
    )
    word = accented.first_name if not accented.first_name.isascii() else accented.last_name

    assert accented.pk in ids_of(local_api.get("/patient", name=word.upper(), size=250))
    assert ids_of(local_api.get("/patient", name="zzz-nobody")) == []


def test_patients_can_be_filtered_by_identifiers_site_and_email(local_api) -> None:
    one, two = Patient.objects.get(pk=48002), Patient.objects.get(pk=48003)

    assert ids_of(local_api.get("/patient", externalIdentifier=["crm-000002", "crm-000003"])) == [
        48002,
        48003,
    ]
    assert ids_of(local_api.get("/patient", id=[48005, 48001])) == [48001, 48005]
    assert ids_of(local_api.get("/patient", id="48005,48007")) == [48005, 48007]
    on_site = ids_of(local_api.get("/patient", siteId=one.site_id, size=250))
    assert on_site == sorted(Patient.objects.filter(site=one.site_id).values_list("id", flat=True))
    assert ids_of(local_api.get("/patient", email=two.email.upper())) == [48003]


def test_patients_can_be_filtered_by_flags_birth_date_and_address(local_api) -> None:
    patient = Patient.objects.get(pk=48010)
    assert patient.date_of_birth
    dob = patient.date_of_birth.isoformat()

    def expected(**filters):
        return sorted(Patient.objects.filter(**filters).values_list("id", flat=True))

    assert ids_of(local_api.get("/patient", archived="true", size=250)) == expected(archived=True)
    assert ids_of(local_api.get("/patient", enrolled="false", size=250)) == expected(enrolled=False)
    assert 48010 in ids_of(local_api.get("/patient", dateOfBirthMin=dob, dateOfBirthMax=dob))
    assert ids_of(local_api.get("/patient", dateOfBirthMin="1990-01-01", size=250)) == expected(
        date_of_birth__gte=date(1990, 1, 1)
    )
    assert ids_of(local_api.get("/patient", postalCode=patient.zip_code, size=250)) == expected(
        zip_code=patient.zip_code
    )
    assert local_api.get("/patient", country="usa").json()["total"] == 60
    assert local_api.get("/patient", country="Canada").json()["total"] == 0


@pytest.mark.parametrize(
    ("sort", "field"), [("firstName", "first_name"), ("lastName", "last_name"), ("patientId", "id")]
)
def test_patients_can_be_sorted_either_way(local_api, sort, field) -> None:
    ascending = list(Patient.objects.order_by(field, "id").values_list("id", flat=True))
    descending = list(Patient.objects.order_by(f"-{field}", "-id").values_list("id", flat=True))

    assert ids_of(local_api.get("/patient", sort=sort, size=250)) == ascending
    assert (
        ids_of(local_api.get("/patient", sort=sort, sortDescending="true", size=250)) == descending
    )


def test_the_last_page_and_pages_beyond_it(local_api) -> None:
    last = local_api.get("/patient", page=4, size=15).json()
    beyond = local_api.get("/patient", page=9, size=15).json()
    everything = local_api.get("/patient", size=250).json()

    assert (len(last["content"]), last["first"], last["last"]) == (15, False, True)
    assert (beyond["content"], beyond["total"], beyond["last"]) == ([], 60, True)
    assert (len(everything["content"]), everything["first"], everything["last"]) == (60, True, True)


BAD_PARAMS = {
    "size over 250": ({"size": "251"}, "size must be between 1 and 250"),
    "size zero": ({"size": "0"}, "size must be between 1 and 250"),
    "page zero": ({"page": "0"}, "page must be 1 or more (the first page is 1)"),
    "negative page": ({"page": "-1"}, "page must be 1 or more (the first page is 1)"),
    "text page": ({"page": "two"}, "page must be a whole number, got 'two'"),
    "empty size": ({"size": ""}, "size must be a whole number, got ''"),
    "text id": ({"id": "abc"}, "id must be a whole number, got 'abc'"),
    "odd boolean": ({"archived": "maybe"}, "archived must be true or false, got 'maybe'"),
    "odd date": (
        {"dateOfBirthMin": "1/2/1950"},
        "dateOfBirthMin must be a date (YYYY-MM-DD), got '1/2/1950'",
    ),
    "unknown sort": (
        {"sort": "email"},
        "sort must be one of firstName, lastName, patientId, got 'email'",
    ),
}


@pytest.mark.parametrize("case", BAD_PARAMS)
def test_bad_query_parameters_are_a_400(local_api, case) -> None:
    params, message = BAD_PARAMS[case]

    response = local_api.get("/patient", **params)

    assert response.status_code == 400
    assert response.json() == {"status": 400, "message": message}


@pytest.mark.parametrize("path", ["/order", "/kit"])
def test_every_list_checks_its_paging_parameters(local_api, path) -> None:
    assert local_api.get(path, size="251").status_code == 400
    assert local_api.get(path, page="0").status_code == 400
    assert local_api.get(path, size="250").status_code == 200
