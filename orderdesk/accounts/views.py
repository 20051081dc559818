from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

login = auth_views.LoginView.as_view(
    template_name="accounts/login.html",
    redirect_authenticated_user=True,
)
logout = auth_views.LogoutView.as_view()


def locked_out(request: HttpRequest, *args: Any) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the page any sign-in door answers once the throttle refuses."""
    minutes = max(1, -(-settings.LOGIN_THROTTLE_SECONDS // 60))
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)
