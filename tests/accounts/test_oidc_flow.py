"""Signing in through a real OpenID Connect provider (tests/oidc_provider.py): the flow,
roles from the provider's groups, the account rules, and logging out at the provider."""

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from orderdesk.accounts.models import OIDCIdentity, SignInEvent, User
from tests.oidc_provider import CLIENT_ID, Provider

pytestmark = pytest.mark.django_db


def new_sub() -> str:
    return f"person-{uuid.uuid4().hex[:12]}"


def start(client: Client, next_url: str = "") -> str:
    """Press "Sign in with …": the provider URL orderdesk sends the browser to."""
    response = client.get("/accounts/oidc/start/" + (f"?next={next_url}" if next_url else ""))
    assert response.status_code == 302
    return response["Location"]


def callback_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def sign_in(client: Client, provider: Provider, sub: str):
    authorize_url = start(client)
    return client.get(callback_path(provider.authorize(authorize_url, sub)))


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def test_a_coordinator_signs_in_and_gets_an_account_matched_on_issuer_and_subject(
    oidc_settings: Provider,
) -> None:
    sub = new_sub()
    oidc_settings.set_user(
        sub,
        email="kim@example.org",
        preferred_username="kim",
        given_name="Kim",
        family_name="Jansen",
        groups=["od-coordinators", "unrelated-group"],
    )
    client = Client()
    response = sign_in(client, oidc_settings, sub)

    assert response.status_code == 302
    assert response["Location"] == "/orders/"
    user = User.objects.get(oidc_identity__subject=sub)
    assert signed_in_user_id(client) == str(user.pk)
    assert (user.username, user.email, user.get_full_name()) == (
        "kim",
        "kim@example.org",
        "Kim Jansen",
    )
    assert user.role == "coordinator"
    assert not user.has_usable_password()
    assert user.oidc_identity.issuer == oidc_settings.url
    event = SignInEvent.objects.get(user=user)
    assert (event.door, event.outcome, event.client_address) == ("oidc", "signed_in", "127.0.0.1")


def test_the_authorization_request_carries_state_nonce_and_an_s256_challenge(
    oidc_settings: Provider,
) -> None:
    query = parse_qs(urlsplit(start(Client())).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 32
    assert len(query["nonce"][0]) >= 32
    assert query["redirect_uri"] == ["http://testserver/accounts/oidc/callback/"]


def test_the_role_follows_the_providers_groups_at_every_sign_in(oidc_settings: Provider) -> None:
    sub = new_sub()
    oidc_settings.set_user(sub, email="sam@example.org", groups=["od-coordinators"])
    sign_in(Client(), oidc_settings, sub)
    oidc_settings.set_user(sub, email="sam@example.org", groups=["od-support"])
    sign_in(Client(), oidc_settings, sub)
    user = User.objects.get(oidc_identity__subject=sub)
    assert (user.role, user.is_staff) == ("support", False)

    oidc_settings.set_user(sub, email="sam@example.org", groups=["od-support", "od-admins"])
    sign_in(Client(), oidc_settings, sub)
    user.refresh_from_db()
    assert (user.role, user.is_staff, user.is_superuser) == ("admin", True, False)
    assert User.objects.filter(oidc_identity__subject=sub).count() == 1


def test_removed_from_every_mapped_group_the_person_is_refused_and_loses_access(
    oidc_settings: Provider,
) -> None:
    sub = new_sub()
    oidc_settings.set_user(sub, email="lee@example.org", groups=["od-support"])
    earlier = Client()
    sign_in(earlier, oidc_settings, sub)
    assert earlier.get("/orders/").status_code == 200

    oidc_settings.set_user(sub, email="lee@example.org", groups=["unrelated-group"])
    client = Client()
    response = sign_in(client, oidc_settings, sub)

    assert response.status_code == 403
    page = " ".join(response.content.decode().split())
    assert "not in any group that gives access to orderdesk" in page
    for internal in ("od-support", "unrelated-group", "OIDC", "groups claim", sub):
        assert internal not in page
    assert signed_in_user_id(client) is None
    user = User.objects.get(oidc_identity__subject=sub)
    assert (user.is_active, user.role) == (False, "")
    # The session from before ends too: the account no longer authenticates.
    assert earlier.get("/orders/")["Location"].startswith("/accounts/login/")
    event = SignInEvent.objects.filter(outcome="refused").latest("at")
    assert (event.door, event.reason) == ("oidc", "no group that maps to a role")
    assert sub in event.who
    assert "lee@example.org" in event.who

    oidc_settings.set_user(sub, email="lee@example.org", groups=["od-coordinators"])
    assert sign_in(Client(), oidc_settings, sub).status_code == 302
    user.refresh_from_db()
    assert (user.is_active, user.role) == (True, "coordinator")


def test_a_person_with_no_mapped_group_gets_no_account(oidc_settings: Provider) -> None:
    sub = new_sub()
    oidc_settings.set_user(sub, email="new@example.org", groups=["finance"])
    users_before = User.objects.count()
    client = Client()
    response = sign_in(client, oidc_settings, sub)
    assert response.status_code == 403
    assert signed_in_user_id(client) is None
    assert User.objects.count() == users_before
    assert not OIDCIdentity.objects.filter(subject=sub).exists()


def test_an_account_deactivated_by_hand_stays_closed_whatever_the_groups(
    oidc_settings: Provider,
) -> None:
    sub = new_sub()
    oidc_settings.set_user(sub, email="max@example.org", groups=["od-support"])
    sign_in(Client(), oidc_settings, sub)
    User.objects.filter(oidc_identity__subject=sub).update(is_active=False)
    client = Client()
    response = sign_in(client, oidc_settings, sub)
    assert response.status_code == 403
    assert "Your orderdesk account has been disabled" in " ".join(response.content.decode().split())
    assert signed_in_user_id(client) is None
    assert not User.objects.get(oidc_identity__subject=sub).is_active


def test_the_account_is_matched_on_the_subject_never_on_the_email(
    oidc_settings: Provider, make_user
) -> None:
    local_admin = make_user("admin")
    local_admin.email = "shared@example.org"
    local_admin.save()
    first, second = new_sub(), new_sub()
    oidc_settings.set_user(
        first, email="shared@example.org", preferred_username="admin", groups=["od-coordinators"]
    )
    oidc_settings.set_user(
        second,
        email="shared@example.org",
        preferred_username="Shared Person (Care)",
        groups=["od-coordinators"],
    )
    sign_in(Client(), oidc_settings, first)
    sign_in(Client(), oidc_settings, second)

    one = User.objects.get(oidc_identity__subject=first)
    two = User.objects.get(oidc_identity__subject=second)
    assert len({one.pk, two.pk, local_admin.pk}) == 3
    assert two.username == "Shared_Person__Care_"
    assert one.username == "admin-2"  # the break-glass "admin" keeps its name and powers
    local_admin.refresh_from_db()
    assert (local_admin.role, local_admin.is_staff) == ("admin", True)


@pytest.mark.parametrize(
    ("next_url", "landing"),
    [("/orders/new/", "/orders/new/"), ("https://evil.example/", "/orders/")],
)
def test_sign_in_returns_to_a_local_page_first_asked_for(
    oidc_settings: Provider, next_url: str, landing: str
) -> None:
    sub = new_sub()
    oidc_settings.set_user(sub, groups=["od-coordinators"])
    client = Client()
    authorize_url = start(client, next_url)
    response = client.get(callback_path(oidc_settings.authorize(authorize_url, sub)))
    assert response["Location"] == landing


def test_log_out_ends_the_session_and_signs_out_at_the_provider(oidc_settings: Provider) -> None:
    sub = new_sub()
    oidc_settings.set_user(sub, groups=["od-coordinators"])
    client = Client()
    sign_in(client, oidc_settings, sub)
    id_token = client.session["oidc_id_token"]

    response = client.post("/accounts/logout/")

    assert signed_in_user_id(client) is None
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        f"{oidc_settings.url}/oauth2/end_session"
    )
    query = parse_qs(location.query)
    assert query["id_token_hint"] == [id_token]
    assert query["post_logout_redirect_uri"] == ["http://testserver/accounts/login/"]
    assert query["client_id"] == [CLIENT_ID]


def test_log_out_of_a_password_session_stays_local(oidc_settings: Provider, coordinator_client):
    response = coordinator_client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/login/"


def test_the_login_page_offers_the_provider_first(oidc_settings: Provider, client) -> None:
    page = client.get("/accounts/login/?next=/orders/new/").content.decode()
    button = page.index("Sign in with Test Identity Provider")
    assert button < page.index('name="password"')
    assert 'href="/accounts/oidc/start/?next=/orders/new/"' in page


def test_without_oidc_issuer_the_door_is_not_there(client) -> None:
    assert "Sign in with" not in client.get("/accounts/login/").content.decode()
    assert client.get("/accounts/oidc/start/").status_code == 404
    assert client.get("/accounts/oidc/callback/?code=x&state=y").status_code == 404
