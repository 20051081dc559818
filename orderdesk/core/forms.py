"""Shared form behaviour for the filter bars of list pages."""

from typing import Any

from django import forms

from orderdesk.core.widgets import make_lean


class FilterForm(forms.Form):
    """A GET filter form whose bad fields are reported and left out, never a 500.

    Its widgets render in Python (core/widgets.py): the filter bar is on every list page.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            make_lean(field.widget)

    def valid_data(self) -> dict[str, Any]:
        """The filters that parsed; each bad one is marked invalid for the person to see."""
        self.is_valid()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = attrs.get("class", "") + " is-invalid"
                attrs.update({"aria-invalid": "true", "aria-describedby": f"id_{name}-error"})
        return dict(getattr(self, "cleaned_data", {}))
