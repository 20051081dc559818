from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "orderdesk.core"
    label = "core"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from orderdesk.core.session_renewal import note_sign_in

        user_logged_in.connect(note_sign_in, dispatch_uid="orderdesk-note-sign-in")
