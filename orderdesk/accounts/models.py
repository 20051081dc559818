from django.contrib.auth.models import AbstractUser


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
