"""A signed-in person over HTTP: requests.Session with CSRF handling, and a record of every
page fetched, so the secrets check can read them all at the end."""

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HX_CSRF = re.compile(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'")


@dataclass
class PageStore:
    """Every response body seen in this run (deduplicated), with who fetched it."""

    pages: dict[int, tuple[str, str, bytes]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    limit: int = 20000

    def add(self, who: str, url: str, body: bytes) -> None:
        key = hash((who, body))
        with self.lock:
            if key not in self.pages and len(self.pages) < self.limit:
                self.pages[key] = (who, url, body)

    def __iter__(self) -> Iterator[tuple[str, str, bytes]]:
        with self.lock:
            return iter(list(self.pages.values()))


PAGES = PageStore()


class Client(requests.Session):
    """One person's browser: cookies, the CSRF token of the last page, a role name."""

    def __init__(self, base_url: str, role: str = "anonymous", *, record: bool = True) -> None:
        super().__init__()
        self.base_url = base_url
        self.role = role
        self.record = record
        self.csrf = ""
        # Secure cookies (DEBUG off) sent over loopback HTTP, as a TLS proxy would carry them.
        # A policy, not a flag changed after each answer: threads sharing one person's
        # session must never send a request without its cookie.
        self.cookies.set_policy(DefaultCookiePolicy(secure_protocols=("https", "wss", "http")))
        # As a browser does: a request on a kept-alive connection the server had just closed
        # is sent again on a new one (never a POST: it may have been received).
        retry = Retry(total=1, connect=1, read=1, status=0, other=0, redirect=0)
        self.mount("http://", HTTPAdapter(max_retries=retry))

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        prepared = super().prepare_request(request)
        # requests builds the Cookie header from a copy of the jar with the default policy,
        # which drops Secure cookies over HTTP: build it from the jar itself instead.
        prepared.headers.pop("Cookie", None)
        prepared.prepare_cookies(self.cookies)
        return prepared

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if url.startswith("/"):
            url = self.base_url + url
        kwargs["allow_redirects"] = False  # every check looks at the redirect itself
        kwargs.setdefault("timeout", 60)
        response = super().request(method, url, *args, **kwargs)
        if self.record and response.content:
            PAGES.add(self.role, url, response.content)
        text = response.text if "html" in response.headers.get("Content-Type", "") else ""
        token = CSRF_INPUT.search(text) or HX_CSRF.search(text)
        if token:
            self.csrf = unescape(token.group(1))
        return response

    def post_form(self, path: str, data: Any, **kwargs: Any) -> requests.Response:
        """POST as the page's own form would: with the token and a same-origin Referer."""
        if not self.csrf:
            self.get("/accounts/login/")
        headers = {"Referer": self.base_url + path, **kwargs.pop("headers", {})}
        if isinstance(data, dict):
            data = {"csrfmiddlewaretoken": self.csrf, **data}
        else:
            data = [("csrfmiddlewaretoken", self.csrf), *data]
        return self.post(path, data=data, headers=headers, **kwargs)

    def login(self, username: str, password: str) -> "Client":
        self.get("/accounts/login/")
        response = self.post_form("/accounts/login/", {"username": username, "password": password})
        if response.status_code != 302:
            raise RuntimeError(f"sign-in as {username} failed: HTTP {response.status_code}")
        self.role = username  # pages fetched from now on are a signed-in person's
        self.get("/orders/")  # a page with the signed-in CSRF token
        return self


def is_login_redirect(response: requests.Response) -> bool:
    return response.status_code == 302 and "/accounts/login/" in response.headers.get(
        "Location", ""
    )
