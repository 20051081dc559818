from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orderdesk.orders"
    label = "orders"
