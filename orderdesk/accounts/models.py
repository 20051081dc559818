from django.contrib.auth.models import AbstractUser
from django.db import models


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


class SignInBudget(models.Model):
    """How many passwords have been checked for one username, or from one address, in the
    current window (accounts/throttle.py). One row per key, so that one UPDATE reserves an
    attempt atomically on SQLite and PostgreSQL alike."""

    key = models.CharField(max_length=200, unique=True)
    used = models.PositiveIntegerField(default=0)
    window_ends = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key}: {self.used}"
