"""Orders as orderdesk keeps them: a snapshot of what was asked for, and where its
submission to Impilo stands. The states and the moves between them are in states.py
(docs/architecture.md#the-order-state-machine); every state change goes through
transitions.transition()."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from orderdesk.orders.states import ATTENTION_STATES, is_in_flight
from orderdesk.orders.states import State as State  # re-exported: the model's field choices

REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U


def new_reference() -> str:
    return "OD-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


class RecipientType(models.TextChoices):
    PATIENT = "patient", "Patient"
    SITE = "site", "Site"


class Order(models.Model):
    reference = models.CharField(max_length=16, unique=True, default=new_reference, editable=False)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    recipient_type = models.CharField(max_length=8, choices=RecipientType)

    # Snapshot of the recipient as the coordinator saw it, so history reads right even
    # if Impilo changes or forgets the record later.
    patient_impilo_id = models.BigIntegerField(null=True, blank=True)
    patient_name = models.CharField(max_length=300, blank=True)
    patient_date_of_birth = models.CharField(max_length=32, blank=True)
    patient_external_id = models.CharField(max_length=200, blank=True)
    site_impilo_id = models.BigIntegerField(null=True, blank=True)
    site_name = models.CharField(max_length=300, blank=True)
    recipient_city = models.CharField(max_length=200, blank=True)

    external_ids = models.JSONField(default=list, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders_created"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    state_changed_at = models.DateTimeField(default=timezone.now)
    # The create form's one-time token: a double click or a retried POST finds this row.
    form_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    # Submission bookkeeping (docs/architecture.md#the-order-state-machine).
    attempts = models.PositiveIntegerField(default=0)
    # Attempts allowed before `failed`; a resubmission by support grants a fresh budget.
    attempt_limit = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True)  # last (re)submission
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_kind = models.CharField(max_length=32, blank=True)
    payload_version = models.PositiveIntegerField(default=1)

    # What Impilo says, verbatim: its vocabulary is open (docs/impilo.md#order-statuses).
    impilo_id = models.BigIntegerField(null=True, blank=True, unique=True)
    impilo_status = models.CharField(max_length=64, blank=True)
    impilo_order = models.JSONField(null=True, blank=True)
    impilo_synced_at = models.DateTimeField(null=True, blank=True)
    # When the status-sync job should next ask Impilo; null once there is nothing to ask
    # (not sent, or a final status). Kept so the job finds due orders by a small index
    # instead of scanning every sent order (orders/sync.py).
    impilo_sync_due_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="order_created_idx"),
            models.Index(fields=["state", "-created_at"], name="order_state_idx"),
            models.Index(fields=["impilo_status", "-created_at"], name="order_istatus_idx"),
            models.Index(fields=["created_by", "-created_at"], name="order_creator_idx"),
            models.Index(fields=["recipient_type", "-created_at"], name="order_rtype_idx"),
            models.Index(fields=["patient_impilo_id"], name="order_patient_idx"),
            models.Index(fields=["site_impilo_id"], name="order_site_idx"),
            models.Index(fields=["state", "state_changed_at"], name="order_attention_idx"),
            # The needs-attention queue in its own order (attention.queue()), holding only
            # the few orders it can show: the first page is the index's first rows.
            models.Index(
                fields=["state_changed_at", "id"],
                condition=models.Q(state__in=[*ATTENTION_STATES, State.RETRY_WAIT]),
                name="order_attention_queue_idx",
            ),
            models.Index(
                fields=["impilo_sync_due_at", "id"],
                condition=models.Q(impilo_sync_due_at__isnull=False),
                name="order_sync_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def recipient_label(self) -> str:
        if self.recipient_type == RecipientType.PATIENT:
            return self.patient_name or f"Patient {self.patient_impilo_id}"
        return self.site_name or f"Site {self.site_impilo_id}"

    @property
    def is_in_flight(self) -> bool:
        return is_in_flight(self.state)


class LineKind(models.TextChoices):
    ITEM = "item", "Item"
    KIT = "kit", "Kit"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=4, choices=LineKind)
    impilo_id = models.BigIntegerField()
    name = models.CharField(max_length=300)
    count = models.PositiveIntegerField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.count} × {self.name}"


class OrderEvent(models.Model):
    """One line of an order's local timeline: who or what moved it, from where, why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    actor_label = models.CharField(max_length=64, blank=True)  # "worker", "sweeper", ...
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["order", "at"], name="orderevent_order_idx")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_state} → {self.to_state}"

    @property
    def who(self) -> str:
        return str(self.actor) if self.actor_id else (self.actor_label or "orderdesk")


class OrderPayloadVersion(models.Model):
    """A payload an order had before support edited it (edit and resubmit), kept beside
    the new one so the detail page can show what changed and who changed it why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payload_versions")
    version = models.PositiveIntegerField()
    payload = models.TextField()  # the exact JSON that was (or would have been) sent
    replaced_at = models.DateTimeField(default=timezone.now)
    replaced_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    reason = models.TextField()

    class Meta:
        ordering = ["version"]
        constraints = [
            models.UniqueConstraint(fields=["order", "version"], name="payload_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.order_id} v{self.version}"


class SendingGate(models.Model):
    """One row: whether the worker may send to Impilo now (circuit breaker and key pause).

    Kept in the database, not in memory, so every worker process sees the same gate.
    """

    consecutive_failures = models.PositiveIntegerField(default=0)
    open_until = models.DateTimeField(null=True, blank=True)  # breaker tripped until then
    auth_paused = models.BooleanField(default=False)  # Impilo refused the key (401/403)
    reason = models.TextField(blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return "paused" if self.auth_paused else f"failures={self.consecutive_failures}"

    @classmethod
    def get(cls) -> "SendingGate":
        gate, _ = cls.objects.get_or_create(pk=1)
        return gate


# --- Impilo webhook deliveries ---------------------------------------------------------


class WebhookDelivery(models.Model):
    """One accepted delivery from Impilo, kept as received (docs/impilo.md#webhooks).

    Impilo retries a delivery it thinks failed, so the envelope id is unique: a second copy
    is acknowledged and dropped, and an order.status event triggers one refetch, not two.
    """

    envelope_id = models.CharField(max_length=64, unique=True)  # Impilo documents a long
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    impilo_order_id = models.BigIntegerField(null=True, blank=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhooks"
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True)  # what orderdesk did with it, in words

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["-received_at", "-id"], name="webhook_received_idx")]

    def __str__(self) -> str:
        return f"{self.type} #{self.envelope_id}"
