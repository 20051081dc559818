"""The demo page's form for adding a fault rule (faults.inject's arguments, with labels)."""

import re

from django import forms

from orderdesk.sandbox.faults import KIND_HELP, KINDS


class FaultForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind", choices=[(kind, f"{kind}: {KIND_HELP[kind]}") for kind in KINDS]
    )
    method = forms.ChoiceField(
        label="HTTP method",
        choices=[("", "Any method"), ("GET", "GET"), ("POST", "POST")],
        required=False,
    )
    path = forms.CharField(
        label="Path pattern (regular expression searched in the request path)",
        required=False,
        max_length=300,
        help_text=r"For example /api/v3/order$ (empty: every API request).",
    )
    count = forms.IntegerField(
        label="Number of requests it hits",
        min_value=1,
        required=False,
        help_text="Empty: unlimited, until the rules are cleared.",
    )
    rate = forms.FloatField(
        label="Probability per matching request", min_value=0, max_value=1, initial=1.0
    )
    status = forms.IntegerField(
        label="HTTP status (kind status)", min_value=100, max_value=599, required=False
    )
    retry_after = forms.CharField(
        label="Retry-After header (kind rate_limit)", required=False, max_length=100
    )
    delay = forms.FloatField(
        label="Delay in seconds (latency and timeout kinds)",
        min_value=0,
        max_value=300,
        initial=0,
    )

    def clean_path(self) -> str:
        path: str = self.cleaned_data["path"]
        try:
            re.compile(path)
        except re.error as exc:
            raise forms.ValidationError(f"Not a valid regular expression: {exc}") from exc
        return path
