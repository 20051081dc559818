from django.urls import path

from orderdesk.accounts import oidc_views, views

urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", oidc_views.LogoutView.as_view(), name="logout"),
    # The redirect URI to register at the identity provider: https://<host>/accounts/oidc/callback/
    path("oidc/start/", oidc_views.StartView.as_view(), name="oidc_start"),
    path("oidc/callback/", oidc_views.CallbackView.as_view(), name="oidc_callback"),
]
