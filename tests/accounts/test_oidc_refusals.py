"""Every way a sign-in through the provider can be forged or go wrong is refused: the
person sees a plain page, no session and no account are left, and the refusal is logged.

The provider is real (tests/oidc_provider.py); a token it hands out is changed only
through its test hook, re-signed as a misbehaving provider would, to get the bad tokens.
"""

import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client

from orderdesk.accounts.models import SignInEvent, User
from tests.accounts.test_oidc_flow import callback_path, start
from tests.oidc_provider import Provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(oidc_settings: Provider) -> str:
    sub = f"person-{uuid.uuid4().hex[:12]}"
    oidc_settings.set_user(sub, email=f"{sub}@example.org", groups=["od-coordinators"])
    return sub


def assert_refused(response, client: Client, sub: str, reason: str) -> None:
    assert response.status_code == 400
    page = " ".join(response.content.decode().split())
    assert "Signing in with Test Identity Provider did not complete" in page
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(oidc_identity__subject=sub).exists()
    assert not User.objects.filter(email=f"{sub}@example.org").exists()
    event = SignInEvent.objects.get()
    assert (event.door, event.outcome, event.user) == ("oidc", "refused", None)
    assert event.reason.startswith(reason), event.reason


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    return f"{parts.path}?{urlencode({**query, **changes})}"


def test_a_tampered_state_is_refused(oidc_settings: Provider, person: str) -> None:
    client = Client()
    back = oidc_settings.authorize(start(client), person)
    response = client.get(with_query(back, state="tampered-" + uuid.uuid4().hex))
    assert_refused(response, client, person, "unknown or tampered state")


def test_a_replayed_callback_is_refused(oidc_settings: Provider, person: str) -> None:
    client = Client()
    back = oidc_settings.authorize(start(client), person)
    assert client.get(callback_path(back)).status_code == 302
    client.post("/accounts/logout/")
    User.objects.all().delete()
    SignInEvent.objects.all().delete()

    response = client.get(callback_path(back))
    assert_refused(response, client, person, "no sign-in was started in this browser")


def test_a_replayed_authorization_code_is_refused_by_the_provider(
    oidc_settings: Provider, person: str
) -> None:
    """Even with the whole sign-in state of the browser copied (state, nonce, PKCE
    verifier), a code already exchanged is not exchanged again."""
    victim = Client()
    back = oidc_settings.authorize(start(victim), person)
    stolen_states = victim.session["oidc_states"]
    assert victim.get(callback_path(back)).status_code == 302
    User.objects.all().delete()
    SignInEvent.objects.all().delete()

    attacker = Client()
    session = attacker.session
    session["oidc_states"] = stolen_states
    session.save()
    response = attacker.get(callback_path(back))
    assert_refused(response, attacker, person, "provider refused the code exchange: HTTP 400")


def test_a_code_exchanged_without_the_right_pkce_verifier_is_refused(
    oidc_settings: Provider, person: str
) -> None:
    client = Client()
    back = oidc_settings.authorize(start(client), person)
    session = client.session
    state = parse_qs(urlsplit(back).query)["state"][0]
    session["oidc_states"][state]["code_verifier"] = "x" * 64
    session.save()
    response = client.get(callback_path(back))
    assert_refused(response, client, person, "provider refused the code exchange: HTTP 400")


@pytest.mark.parametrize(
    ("tweak", "reason"),
    [
        ({"claims": {"aud": "another-client"}}, "ID token is for another audience"),
        ({"claims": {"aud": ["orderdesk-test", "another-client"]}}, "ID token has several"),
        ({"from_now": {"exp": -600, "iat": -4200}}, "ID token has expired"),
        ({"unknown_key": True}, "ID token signature does not verify"),
        ({"unknown_key": True, "kid": "a-key-never-published"}, "ID token signed with a key"),
        ({"claims": {"nonce": "not-the-nonce-we-sent"}}, "ID token nonce does not match"),
        ({"claims": {"iss": "https://idp.example.org"}}, "ID token is from another issuer"),
    ],
    ids=[
        "other-audience",
        "several-audiences",
        "expired",
        "unknown-key",
        "unknown-kid",
        "wrong-nonce",
        "other-issuer",
    ],
)
def test_a_bad_id_token_is_refused(
    oidc_settings: Provider, person: str, tweak: dict, reason: str
) -> None:
    client = Client()
    back = oidc_settings.authorize(start(client), person)
    oidc_settings.next_id_token(**tweak)
    response = client.get(callback_path(back))
    assert_refused(response, client, person, reason)


def test_an_untouched_reissued_id_token_is_accepted(oidc_settings: Provider, person: str) -> None:
    """The hook's re-signing itself is not what the refusals above refuse."""
    client = Client()
    back = oidc_settings.authorize(start(client), person)
    oidc_settings.next_id_token(claims={})
    assert client.get(callback_path(back)).status_code == 302
    assert "_auth_user_id" in client.session


def test_the_provider_answering_with_an_error_is_refused(
    oidc_settings: Provider, person: str
) -> None:
    client = Client()
    state = parse_qs(urlsplit(start(client)).query)["state"][0]
    response = client.get(f"/accounts/oidc/callback/?error=access_denied&state={state}")
    assert_refused(response, client, person, "provider answered with an error: access_denied")


def test_a_signed_in_person_refused_at_the_callback_is_signed_out(
    oidc_settings: Provider, person: str, coordinator_client: Client
) -> None:
    back = oidc_settings.authorize(start(coordinator_client), person)
    response = coordinator_client.get(with_query(back, state="tampered"))
    assert response.status_code == 400
    assert "_auth_user_id" not in coordinator_client.session


def test_an_http_issuer_in_production_is_refused_before_anything_is_sent(
    oidc_settings: Provider, settings
) -> None:
    settings.DEBUG = False
    settings.OIDC_ISSUER = "http://idp.example.org"
    client = Client()
    response = client.get("/accounts/oidc/start/")
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    event = SignInEvent.objects.get()
    assert event.reason.startswith("OIDC_ISSUER is plain http in production")
