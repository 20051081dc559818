from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from orderdesk.accounts.models import User
from orderdesk.accounts.roles import ADMIN, COORDINATOR, SUPPORT, ensure_role_groups

DEMO_PASSWORD = "orderdesk-demo"  # noqa: S105 -- documented demo credential, DEBUG only


class Command(BaseCommand):
    help = "Create the demo users coordinator, support and admin (DEBUG only)."

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo users are never created with production settings.")
        ensure_role_groups()  # a flushed database has lost the migration's groups
        for role in (COORDINATOR, SUPPORT, ADMIN):
            user, created = User.objects.get_or_create(
                username=role,
                defaults={"first_name": role.capitalize(), "last_name": "Demo"},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.is_staff = role == ADMIN
                user.save()
            user.groups.add(Group.objects.get(name=role))
            self.stdout.write(f"{'created' if created else 'kept'} demo user {role}")
