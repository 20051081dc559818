"""The sandbox's own tables: a small copy of what Impilo keeps, plus faults and a request log.

Nothing here is shared with the rest of orderdesk; the sandbox stands in for a foreign system.
"""

from django.db import models


class Address(models.Model):
    """Impilo's Address, as columns on the models that carry one."""

    line_one = models.CharField(max_length=200, blank=True)
    line_two = models.CharField(max_length=200, blank=True)
    line_three = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    zip_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=50, blank=True)
    address_note = models.CharField(max_length=200, blank=True)

    class Meta:
        abstract = True


class Site(Address):
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    phone_number = models.CharField(max_length=40, blank=True)

    def __str__(self) -> str:
        return self.name


class Manufacturer(models.Model):
    name = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    manufacturer = models.ForeignKey(Manufacturer, on_delete=models.PROTECT)
    name = models.CharField(max_length=200)
    model = models.CharField(max_length=100, blank=True)
    sku = models.CharField(max_length=40, unique=True)
    orderable = models.BooleanField(default=True)
    # Serialised devices get identifiers ("serial", "imei"); consumables have none.
    identifier_types = models.CharField(max_length=40, blank=True)

    def __str__(self) -> str:
        return self.name


class Stock(models.Model):
    """Units on hand per item in the (single) fulfilment warehouse; orders deduct from it."""

    item = models.OneToOneField(Item, on_delete=models.CASCADE, primary_key=True)
    on_hand = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.item_id}: {self.on_hand}"


class Kit(models.Model):
    name = models.CharField(max_length=200)
    archived = models.BooleanField(default=False)
    # Impilo does not say how a loaner kit is marked: a sandbox-internal flag.
    loaner = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name


class KitItem(models.Model):
    kit = models.ForeignKey(Kit, on_delete=models.CASCADE, related_name="kit_items")
    item = models.ForeignKey(Item, on_delete=models.PROTECT)
    count = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.count} x {self.item_id}"


class Patient(Address):
    external_identifier = models.CharField(max_length=100, unique=True, null=True, blank=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    # casefold("first last"): one LIKE serves first, last and full-name search on both DBs.
    name_search = models.CharField(max_length=210, editable=False)
    date_of_birth = models.DateField(null=True, blank=True)
    email = models.CharField(max_length=200, blank=True)
    phone_number = models.CharField(max_length=40, blank=True)
    archived = models.BooleanField(default=False)
    enrolled = models.BooleanField(default=True)
    sex = models.CharField(max_length=10, default="unknown")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["first_name", "id"], name="sandbox_pat_first_idx"),
            models.Index(fields=["last_name", "id"], name="sandbox_pat_last_idx"),
            models.Index(fields=["email"], name="sandbox_pat_email_idx"),
            models.Index(fields=["date_of_birth"], name="sandbox_pat_dob_idx"),
            models.Index(fields=["zip_code"], name="sandbox_pat_zip_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.name_search = search_key(self.first_name, self.last_name)
        super().save(*args, **kwargs)  # type: ignore[arg-type]


def search_key(first_name: str, last_name: str) -> str:
    return f"{first_name} {last_name}".casefold()


class Order(models.Model):
    created_at = models.DateTimeField()
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, null=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, null=True)
    shipping_option = models.CharField(max_length=40, blank=True)
    email_label = models.BooleanField(default=False)
    # Return lines have no published shape: kept and echoed as sent.
    return_items = models.JSONField(null=True)
    return_devices = models.JSONField(null=True)
    return_packed_kits = models.JSONField(null=True)

    def __str__(self) -> str:
        return f"Order {self.pk}"


class ExternalOrderId(models.Model):
    """One row per externalOrderIds entry: JSON `contains` does not work on SQLite."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="external_ids")
    position = models.PositiveIntegerField()
    value = models.CharField(max_length=500, db_index=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.value


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="order_items")
    item = models.ForeignKey(Item, on_delete=models.PROTECT)
    count = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.count} x item {self.item_id}"


class OrderKit(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="order_kits")
    kit = models.ForeignKey(Kit, on_delete=models.PROTECT)
    count = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.count} x kit {self.kit_id}"


class OrderNote(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="order_notes")
    note = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.note[:50]


class FaultRule(models.Model):
    """A misbehaviour to inject; a table so every server thread and process sees it."""

    kind = models.CharField(max_length=40)
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=300, blank=True)
    # None = unlimited; otherwise decremented (conditionally) each time the rule fires.
    remaining = models.PositiveIntegerField(null=True, blank=True)
    rate = models.FloatField(default=1.0)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    retry_after = models.CharField(max_length=100, blank=True)
    delay = models.FloatField(default=0.0)
    fired = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class RequestLog(models.Model):
    """Every API request the sandbox received: proof that each one left an audit row."""

    received_at = models.DateTimeField(auto_now_add=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    query = models.CharField(max_length=1000, blank=True)
    # 0 = no HTTP response at all (the connection was reset).
    status = models.PositiveSmallIntegerField()
    fault = models.CharField(max_length=40, blank=True)
    # The caller's X-Request-ID: verify matches each request received to its audit row.
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"
