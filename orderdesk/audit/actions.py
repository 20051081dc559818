"""The Impilo calls orderdesk makes, by the name each audit row records them under.

Audit sits below the Impilo client, so the names live here and the client uses them.
"""

from django.db import models


class Action(models.TextChoices):
    ORDER_CREATE = "order_create", "Create order"
    ORDER_FETCH = "order_fetch", "Fetch order"
    ORDER_LIST = "order_list", "List orders"
    PATIENT_SEARCH = "patient_search", "Search patients"
    KIT_LIST = "kit_list", "List kits"
