"""Record ids are stored only as a keyed hash, bound to the organisation (issue 13, finding 8).

Hashes every stored `Victim.record_id` in place with the same function the intake now uses
(`ctdc.ingest.identity.record_id_hash`, owner `organisation-<pk>`; written out here because a migration must not
change when that code does). Re-submissions then update the same records. Not reversible: the raw ids are gone.
"""

import hashlib
import hmac

from django.conf import settings
from django.db import migrations, models


def hash_record_id(key: bytes, organisation_pk: int, value: str) -> str:
    message = b"record-id\x1f" + f"organisation-{organisation_pk}".encode() + b"\x1f" + value.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def forwards(apps, schema_editor):
    Victim = apps.get_model("cases", "Victim")
    key = settings.CTDC_IDENTITY_KEY.encode()
    batch = []
    for v in Victim.objects.only("pk", "organisation_id", "record_id").order_by("pk").iterator(chunk_size=2000):
        v.record_id = hash_record_id(key, v.organisation_id, v.record_id)
        batch.append(v)
        if len(batch) == 2000:
            Victim.objects.bulk_update(batch, ["record_id"])
            batch = []
    Victim.objects.bulk_update(batch, ["record_id"])


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_standard_0_2_fields")]
    operations = [
        migrations.AlterField(
            model_name="victim", name="record_id",
            field=models.CharField(max_length=128, help_text="Keyed hash (HMAC-SHA256 with the identity key, bound "
                                                             "to the organisation) of the contributor's own record "
                                                             "id; never the id itself.")),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
