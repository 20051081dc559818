"""Hostile input `make verify` found getting through the New order form."""

import pytest

from tests.orders.test_forms import header_errors, line_errors

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("count", ["٣", "３", "²"])
def test_a_count_in_digits_of_another_script_is_refused(count: str) -> None:
    # Python's \d and int() accept "٣" (Arabic-Indic three): it made an order for 3.
    _, rows = line_errors(["item"], ["1001"], [count])
    assert rows == [["Count must be a whole number from 1 to 100."]]


def test_an_altered_form_token_is_reported_on_the_form() -> None:
    # The token is a hidden field: its error alone was shown nowhere.
    errors = header_errors(form_token="' OR 1=1")
    assert errors["__all__"] == ["This form was altered or is out of date: open New order again."]
