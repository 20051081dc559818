"""Filters for showing audit rows, so templates/audit/_apicall_detail.html can be included
anywhere (the order page's "Impilo requests" panel) with nothing but `call` in context."""

from typing import Any

from django import template

from orderdesk.audit import present

register = template.Library()

OUTCOME_CLASSES = {
    "ok": "text-bg-success",
    "rejected": "text-bg-danger",
    "auth": "text-bg-danger",
    "not_found": "text-bg-warning",
    "rate_limited": "text-bg-warning",
    "unavailable": "text-bg-secondary",
    "ambiguous": "text-bg-warning",
}


@register.filter
def pretty_body(body: str | None) -> str:
    return present.pretty_body(body)


@register.filter
def header_pairs(headers: dict[str, object] | None) -> list[tuple[str, str]]:
    return present.header_pairs(headers)


@register.filter
def url_path(url: str) -> str:
    return present.url_path(url)


@register.filter
def scrub(text: str | None) -> str:
    return present.scrub(text or "")


@register.filter
def curl(call: Any) -> str:
    return present.curl_command(
        method=call.method, url=call.url, headers=call.request_headers, body=call.request_body
    )


@register.filter
def outcome_class(outcome: str) -> str:
    return OUTCOME_CLASSES.get(outcome, "text-bg-light")
