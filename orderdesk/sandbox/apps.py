from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "orderdesk.sandbox"
    label = "sandbox"
