"""Shared by the Impilo client tests: a distinctive key, and a check that it never lands
in an audit row."""

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from orderdesk.audit.models import ApiCall

KEY = "impilo-test-key-7Q2/x+Z"
BASE_URL = "https://impilo.test"
EXAMPLES = Path(__file__).parent / "examples"


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


@pytest.fixture
def impilo_settings(settings: SettingsWrapper) -> SettingsWrapper:
    settings.IMPILO_API_KEY = KEY
    settings.IMPILO_BASE_URL = BASE_URL
    settings.IMPILO_KITS_PATH = "/api/v3/kit"
    return settings


def only_call() -> ApiCall:
    """The single audit row a call must leave, checked for the key in every column."""
    calls = list(ApiCall.objects.all())
    assert len(calls) == 1, f"expected exactly one ApiCall, found {len(calls)}"
    call = calls[0]
    for field in ApiCall._meta.concrete_fields:
        assert KEY not in json.dumps(getattr(call, field.attname), default=str), field.name
    return call
