"""Every page orderdesk routes, with sample arguments, so page-wide rules are checked on
pages added later too (a new view is covered the day it is routed)."""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

SAMPLE_ARGUMENT = {
    "int": "1",
    "str": "OD-00000000",
    "slug": "sample",
    "path": "sample",
    "uuid": "00000000-0000-0000-0000-000000000001",
}
PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?\w+>")


@dataclass(frozen=True)
class Page:
    path: str
    name: str
    view: Callable[..., object]
    has_arguments: bool

    @property
    def login_not_required(self) -> bool:
        return getattr(self.view, "login_required", True) is False

    @property
    def required_permission(self) -> str | None:
        return getattr(self.view, "required_permission", None)

    def __str__(self) -> str:
        return self.path


def _fill(route: str) -> str:
    route = route.replace("^", "").replace("$", "")  # re_path() routes
    return PARAMETER.sub(lambda m: SAMPLE_ARGUMENT.get(m["converter"] or "str", "1"), route)


def _walk(patterns: list, prefix: str, namespace: str) -> Iterator[Page]:
    for entry in patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # Django's admin has its own sign-in and permission checks
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + route, inner)
        elif isinstance(entry, URLPattern):
            yield Page(
                path="/" + _fill(prefix + route),
                name=f"{namespace}{entry.name or '?'}",
                view=entry.callback,
                has_arguments=bool(PARAMETER.search(prefix + route)),
            )


def all_pages() -> list[Page]:
    return list(_walk(get_resolver().url_patterns, "", ""))
