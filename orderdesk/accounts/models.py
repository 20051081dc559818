from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class User(AbstractUser):
    """orderdesk's user. A person's role is the group they belong to (see roles.py)."""

    class Meta:
        permissions = [
            ("view_orders", "Can view orders"),
            ("create_orders", "Can create and submit orders"),
            ("work_queue", "Can work the needs-attention queue and resubmit orders"),
            ("view_audit", "Can view the Impilo audit log"),
            ("administer", "Can manage users, the catalog and sandbox faults"),
        ]

    @property
    def role(self) -> str:
        from orderdesk.accounts.roles import role_of

        return role_of(self)

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class OIDCIdentity(models.Model):
    """Links an account to one person at the identity provider.

    Matched on the provider's stable subject (`sub`) within its issuer, never on an email
    address, which a provider may hand to someone else later.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="oidc_identity")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    # Set when orderdesk itself deactivated the account because the person's groups gave
    # no role; such an account comes back when a group does. One deactivated by hand stays.
    role_lapsed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="oidc_identity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


class SignInEvent(models.Model):
    """One sign-in or refused sign-in, at any door. Never holds a password or token."""

    class Door(models.TextChoices):
        PASSWORD = "password", "password form"
        ADMIN = "admin", "admin password form"
        OIDC = "oidc", "identity provider"

    class Outcome(models.TextChoices):
        SIGNED_IN = "signed_in", "signed in"
        REFUSED = "refused", "refused"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    door = models.CharField(max_length=16, choices=Door.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    # As typed at a password door, or as the identity provider named the person.
    who = models.CharField(max_length=255, blank=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    client_address = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} {self.who} ({self.get_door_display()})"


class SignInBudget(models.Model):
    """How many passwords have been checked for one username, or from one address, in the
    current window (accounts/throttle.py). One row per key, so that one UPDATE reserves an
    attempt atomically on SQLite and PostgreSQL alike."""

    key = models.CharField(max_length=200, unique=True)
    used = models.PositiveIntegerField(default=0)
    window_ends = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key}: {self.used}"
