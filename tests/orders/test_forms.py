import pytest
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from orderdesk.orders.forms import OrderHeaderForm, read_lines, validate_lines
from tests.orders.factories import catalog, order_post, patient

pytestmark = pytest.mark.django_db


def as_querydict(data: dict[str, object]) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, value in data.items():
        query.setlist(key, value if isinstance(value, list) else [str(value)])
    return query


def header_errors(**overrides: object) -> dict[str, list[str]]:
    catalog()
    form = OrderHeaderForm(as_querydict(order_post(**overrides)))
    form.is_valid()
    return {k: [str(e) for e in v] for k, v in form.errors.items()}


def line_errors(kinds, ids, counts, to_site=False):
    catalog()
    data = QueryDict(mutable=True)
    data.setlist("line-kind", kinds)
    data.setlist("line-id", ids)
    data.setlist("line-count", counts)
    rows = read_lines(data)
    overall = validate_lines(rows, to_site=to_site)
    return overall, [row.errors for row in rows]


def test_a_valid_patient_order_header_has_no_errors() -> None:
    assert header_errors() == {}


def test_a_tampered_patient_token_is_refused() -> None:
    token = patient().remember()
    errors = header_errors(patient=token[:-3] + "abc")
    assert errors["patient"] == ["Choose the patient again from the search results."]


def test_a_patient_id_that_never_came_from_a_search_is_refused() -> None:
    assert "patient" in header_errors(patient="48213")


def test_archived_or_not_enrolled_patients_cannot_be_chosen() -> None:
    assert "archived" in header_errors(patient=patient(archived=True).remember())["patient"][0]
    assert "not enrolled" in header_errors(patient=patient(enrolled=False).remember())["patient"][0]


def test_both_recipients_are_refused() -> None:
    assert "site" in header_errors(site="77")


def test_neither_recipient_is_refused() -> None:
    assert "patient" in header_errors(patient="")
    assert "site" in header_errors(recipient_type="site", patient="", site="")


def test_an_inactive_or_unknown_site_is_refused() -> None:
    assert "site" in header_errors(recipient_type="site", patient="", site="78")
    assert "site" in header_errors(recipient_type="site", patient="", site="999")
    assert "site" in header_errors(recipient_type="site", patient="", site="abc")


@pytest.mark.parametrize(
    "value",
    ["x" * 65, "bad\x00id", "tab\tid", "bell\x07"],
)
def test_bad_external_ids_are_refused(value: str) -> None:
    assert "external_ids" in header_errors(external_ids=value)


def test_duplicate_and_too_many_external_ids_are_refused() -> None:
    assert "Listed twice" in header_errors(external_ids="A-1\nA-1")["external_ids"][0]
    many = "\n".join(f"id-{n}" for n in range(11))
    assert "At most 10" in header_errors(external_ids=many)["external_ids"][0]


def test_external_ids_are_trimmed_and_blank_lines_dropped() -> None:
    catalog()
    form = OrderHeaderForm(as_querydict(order_post(external_ids="  A-1 \n\n B-2\r\n")))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["external_ids"] == ["A-1", "B-2"]


def test_a_missing_form_token_is_refused() -> None:
    assert "form_token" in header_errors(form_token="")


@pytest.mark.parametrize("count", ["0", "-1", "1000000000", "abc", "1.5", "true", "", "101"])
def test_bad_counts_are_refused(count: str) -> None:
    _, rows = line_errors(["item"], ["1001"], [count])
    assert rows[0] == ["Count must be a whole number from 1 to 100."]


def test_counts_up_to_the_maximum_are_accepted() -> None:
    assert line_errors(["item", "kit"], ["1001", "311"], ["1", "100"]) == ([], [[], []])


@pytest.mark.parametrize("item_id", ["1003", "999", "abc", "-1001", ""])
def test_unknown_or_non_orderable_items_are_refused(item_id: str) -> None:
    _, rows = line_errors(["item"], [item_id], ["1"])
    assert rows[0]


def test_no_lines_is_refused() -> None:
    assert line_errors([], [], [])[0] == ["Add at least one item or kit."]


def test_five_hundred_lines_are_refused() -> None:
    overall, _ = line_errors(["item"] * 500, ["1001"] * 500, ["1"] * 500)
    assert overall == ["An order can have at most 50 lines."]


def test_the_same_item_twice_is_flagged_on_the_second_line() -> None:
    _, rows = line_errors(["item", "item"], ["1001", "1001"], ["1", "2"])
    assert rows[0] == []
    assert rows[1] == ["Already on line 1: change that line's count instead."]


def test_loaner_kit_rules_are_checked_before_sending() -> None:
    assert "at most one loaner" in line_errors(["kit", "kit"], ["312", "313"], ["1", "1"])[0][0]
    assert line_errors(["kit"], ["312"], ["2"])[1] == [["A loaner kit's count must be 1."]]
    assert "only to patients" in line_errors(["kit"], ["312"], ["1"], to_site=True)[0][0]


def test_read_lines_never_reads_more_than_the_limit_plus_one() -> None:
    data = MultiValueDict({"line-kind": ["item"] * 5000, "line-id": ["1"] * 5000})
    assert len(read_lines(data)) == 51  # type: ignore[arg-type]
