"""A signed-in HTTP client for the bench, and the timing of pages through it."""

import math
import re
import time
from dataclasses import dataclass, field
from itertools import cycle
from typing import Any

import requests

from bench.server import cpu_seconds

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Client:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def _insecure_cookies(self) -> None:
        """Production cookies are Secure; the bench talks plain HTTP on loopback, as a TLS
        proxy in front of gunicorn would, so they must be sent over HTTP anyway."""
        for cookie in self.session.cookies:
            cookie.secure = False

    def login(self, username: str, password: str) -> None:
        page = self.session.get(self.base_url + "/accounts/login/", timeout=30)
        self._insecure_cookies()
        token = CSRF_FIELD.search(page.text)
        if page.status_code != 200 or token is None:
            raise SystemExit(f"bench: no login form ({page.status_code})")
        response = self.session.post(
            self.base_url + "/accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": token[1]},
            allow_redirects=False,
            timeout=30,
        )
        self._insecure_cookies()
        if response.status_code != 302:
            raise SystemExit(f"bench: could not sign in as {username} ({response.status_code})")

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 600)
        kwargs.setdefault("allow_redirects", False)
        response = self.session.get(self.base_url + path, **kwargs)
        self._insecure_cookies()
        return response

    def post(self, path: str, data: dict[str, str], **kwargs: Any) -> requests.Response:
        """POST as the page's htmx would: the CSRF cookie's token in the header."""
        headers = {
            "X-CSRFToken": self.session.cookies.get("csrftoken", ""),
            "Referer": self.base_url + path,
            **kwargs.pop("headers", {}),
        }
        kwargs.setdefault("timeout", 600)
        kwargs.setdefault("allow_redirects", False)
        response = self.session.post(self.base_url + path, data=data, headers=headers, **kwargs)
        self._insecure_cookies()
        return response


@dataclass
class Page:
    """One page figure: the paths it cycles through and what a right answer looks like."""

    key: str
    what: str
    paths: list[str]
    status: int = 200
    contains: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    # Posted instead of fetched: one form per path, in turn (e.g. the patient picker).
    forms: list[dict[str, str]] = field(default_factory=list)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: the value below which `share` of the samples fall."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def time_page(
    client: Client, page: Page, *, warmup: int, requests_: int, server_pids: list[int]
) -> dict[str, Any]:
    """p50 and p95 in ms over `requests_` sequential requests, after `warmup` untimed ones,
    and the CPU the server's processes spent per request: on a shared machine the wall time
    includes waiting for a core, the CPU time does not."""
    paths = cycle(page.paths)
    forms = cycle(page.forms or [{}])
    samples, size, cpu_before = [], 0, 0.0
    for index in range(warmup + requests_):
        if index == warmup:
            cpu_before = cpu_seconds(server_pids)
        path, form = next(paths), next(forms)
        started = time.perf_counter()
        if page.forms:
            response = client.post(path, form, headers=page.headers)
        else:
            response = client.get(path, headers=page.headers)
        elapsed = time.perf_counter() - started
        _check(page, path, response)
        if index >= warmup:
            samples.append(elapsed * 1000)
            size = max(size, len(response.content))
    cpu = cpu_seconds(server_pids) - cpu_before
    return {
        "p50": round(percentile(samples, 0.5), 1),
        "p95": round(percentile(samples, 0.95), 1),
        "n": len(samples),
        "bytes": size,
        "server_cpu_ms": round(cpu * 1000 / len(samples), 1),
    }


def _check(page: Page, path: str, response: requests.Response) -> None:
    """A figure must measure the page, not an error page or a redirect to the login."""
    if response.status_code != page.status:
        raise SystemExit(f"bench: {page.key} {path} answered {response.status_code}")
    if page.contains and page.contains not in response.text:
        raise SystemExit(f"bench: {page.key} {path} does not contain {page.contains!r}")
