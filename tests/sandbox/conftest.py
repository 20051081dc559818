"""A tiny HTTP client for the sandbox's API, over the real socket of the live server."""

import json
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from django.http import HttpResponseBase
from django.test import Client

from orderdesk.sandbox.seed import seed
from orderdesk.sandbox.testing import SeedIds, seed_ids


@dataclass
class Api:
    base: str
    session: requests.Session

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.base + path, params=params, timeout=10)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.post(self.base + path, json=body, **kwargs)

    def order(self, **fields: Any) -> requests.Response:
        return self.post("/order", fields)


@pytest.fixture
def api(sandbox: str, settings) -> Api:
    session = requests.Session()
    session.headers["Impilo-API-Key"] = settings.SANDBOX_API_KEY
    return Api(base=sandbox + "/api/v3", session=session)


@pytest.fixture
def ids(sandbox: str) -> SeedIds:
    return seed_ids()


@dataclass
class InProcessApi:
    """The same API through Django's test client: for long tables of rule cases (fast)."""

    client: Client
    key: str
    prefix: str = "/sandbox/impilo/api/v3"

    def get(self, path: str, **params: Any) -> HttpResponseBase:
        return self.client.get(self.prefix + path, params, headers={"Impilo-API-Key": self.key})

    def post(self, path: str, body: Any) -> HttpResponseBase:
        return self.client.post(
            self.prefix + path,
            json.dumps(body),
            content_type="application/json",
            headers={"Impilo-API-Key": self.key},
        )

    def order(self, **fields: Any) -> HttpResponseBase:
        return self.post("/order", fields)


@pytest.fixture
def local_api(db: None, settings) -> InProcessApi:
    seed(60)
    settings.SANDBOX_STATUS_STEP_SECONDS = 1  # as the `sandbox` fixture sets it
    return InProcessApi(Client(), settings.SANDBOX_API_KEY)


@pytest.fixture
def local_ids(local_api: InProcessApi) -> SeedIds:
    return seed_ids()
