from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "orderdesk.audit"
    label = "audit"
