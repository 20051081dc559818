import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory

from orderdesk.accounts.models import User

pytestmark = pytest.mark.django_db

DEMO_PASSWORD = "orderdesk-demo"


def test_creates_one_demo_user_per_role_with_the_documented_password(settings) -> None:
    settings.DEBUG = True
    call_command("create_demo_users")
    for role in ("coordinator", "support", "admin"):
        request = RequestFactory().post("/accounts/login/")
        user = authenticate(request, username=role, password=DEMO_PASSWORD)
        assert user is not None
        assert user.role == role
    assert User.objects.get(username="admin").is_staff
    assert not User.objects.get(username="coordinator").is_staff


def test_running_twice_keeps_the_same_users(settings) -> None:
    settings.DEBUG = True
    call_command("create_demo_users")
    first = dict(User.objects.values_list("username", "pk"))
    call_command("create_demo_users")
    assert dict(User.objects.values_list("username", "pk")) == first
    for role in ("coordinator", "support", "admin"):
        assert User.objects.get(username=role).groups.count() == 1


def test_refuses_with_debug_off(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="never created with production settings"):
        call_command("create_demo_users")
    assert not User.objects.exists()
