"""orderdesk's own directory of Impilo sites, items and kits, for the order form's pickers.

Impilo publishes no list of sites or items (docs/impilo.md#sites-items-and-kits), so sync.py
collects them from List Kits and from the sites patients reference; admins add the rest by hand.
Fields fall in two groups: what Impilo says (overwritten by every sync) and what an admin
decides (`active`, `is_loaner`), which a sync never overwrites on an existing row.
"""

from django.db import models
from django.db.models import QuerySet


class Source(models.TextChoices):
    IMPILO = "impilo", "Impilo"
    ADMIN = "admin", "Added by an admin"


class Site(models.Model):
    impilo_id = models.BigIntegerField("Impilo id", unique=True)
    name = models.CharField(max_length=300)
    # Impilo's own flag; `active` below is the admin's switch to hide a site here.
    impilo_active = models.BooleanField("active at Impilo", default=True)
    active = models.BooleanField(
        default=True, help_text="Untick to hide this site from the order form."
    )
    city = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=8, choices=Source, default=Source.ADMIN)
    synced_at = models.DateTimeField("last seen at Impilo", null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "impilo_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.impilo_id})"


class Item(models.Model):
    impilo_id = models.BigIntegerField("Impilo id", unique=True)
    name = models.CharField(max_length=300)
    model = models.CharField(max_length=200, blank=True)
    sku = models.CharField("SKU", max_length=100, blank=True)
    manufacturer = models.CharField(max_length=300, blank=True)
    orderable = models.BooleanField(default=False, help_text="Impilo's flag.")
    active = models.BooleanField(
        default=True, help_text="Untick to hide this item from the order form."
    )
    synced_at = models.DateTimeField("last seen at Impilo", null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "impilo_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.impilo_id})"


class Kit(models.Model):
    impilo_id = models.BigIntegerField("Impilo id", unique=True)
    name = models.CharField(max_length=300)
    archived = models.BooleanField(default=False, help_text="Impilo's flag.")
    active = models.BooleanField(
        default=True, help_text="Untick to hide this kit from the order form."
    )
    # Impilo has no loaner flag (docs/impilo.md#sites-items-and-kits): the sync guesses from
    # the name of a new kit, and from then on it is the admin's call.
    is_loaner = models.BooleanField("loaner kit", default=False)
    items: "models.ManyToManyField[Item, KitItem]" = models.ManyToManyField(
        Item, through="KitItem", related_name="kits"
    )
    synced_at = models.DateTimeField("last seen at Impilo", null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "impilo_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.impilo_id})"


class KitItem(models.Model):
    kit = models.ForeignKey(Kit, on_delete=models.CASCADE, related_name="kit_items")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="kit_items")
    count = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["kit", "item__name"]
        constraints = [
            models.UniqueConstraint(fields=["kit", "item"], name="catalog_kititem_unique")
        ]

    def __str__(self) -> str:
        return f"{self.count} × {self.item.name}"


def looks_like_loaner(name: str) -> bool:
    return "loaner" in name.casefold()


def orderable_items() -> QuerySet[Item]:
    """Items a coordinator may put on an order: Impilo allows it and no admin hid it."""
    return Item.objects.filter(orderable=True, active=True)


def orderable_kits() -> QuerySet[Kit]:
    """Kits not archived at Impilo and not hidden here. A kit's parts need not be orderable
    one by one (cables, chargers): Impilo ships them as part of the kit."""
    return Kit.objects.filter(archived=False, active=True).prefetch_related("kit_items__item")


def active_sites() -> QuerySet[Site]:
    return Site.objects.filter(active=True, impilo_active=True)
