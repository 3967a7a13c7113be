"""New audit events get time-ordered uids (UUIDv7, audit.models.time_ordered_uid): the unique
index on uid then grows at its right edge. Python-side default only: no database change (an
AlterField would rebuild the table on SQLite and drop its append-only triggers)."""

from django.db import migrations, models

import audit.models


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_drop_event_company_index_prefix")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="uid",
                    field=models.UUIDField(default=audit.models.time_ordered_uid, editable=False, unique=True),
                )
            ]
        )
    ]
