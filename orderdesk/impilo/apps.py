from typing import Any

from django.apps import AppConfig


class ImpiloConfig(AppConfig):
    name = "orderdesk.impilo"
    label = "impilo"

    def ready(self) -> None:
        from orderdesk.core.worker_pool import loop_finished

        loop_finished.connect(_close_session, dispatch_uid="impilo-close-thread-session")


def _close_session(**kwargs: Any) -> None:
    from orderdesk.impilo.client import close_thread_session

    close_thread_session()
