"""The database cache's table (login throttling uses the cache), so `migrate` is all a deploy
needs: Django's createcachetable is otherwise a separate step that is easy to forget."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
