from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "orderdesk.accounts"
    label = "accounts"

    def ready(self) -> None:
        # The sign-in log's signal receivers and its read-only admin page.
        from orderdesk.accounts import signin_admin, signin_log  # noqa: F401
