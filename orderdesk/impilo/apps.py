from django.apps import AppConfig


class ImpiloConfig(AppConfig):
    name = "orderdesk.impilo"
    label = "impilo"
