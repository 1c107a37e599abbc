"""Record ids of quarantined rows and of staged (accepted, awaiting approval) files become keyed hashes too
(issue 13, finding 8), with the function of cases/0003, so approving a submission staged before this change
writes hashes, not raw ids."""

import hashlib
import hmac
import io

import polars as pl
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import migrations, models



def _record_id_hash(key: bytes, organisation_pk: int, value: str) -> str:
    """As cases/0003 (and `ctdc.ingest.identity.record_id_hash` with owner `organisation-<pk>`)."""
    message = b"record-id\x1f" + f"organisation-{organisation_pk}".encode() + b"\x1f" + value.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def forwards(apps, schema_editor):
    key = settings.CTDC_IDENTITY_KEY.encode()
    QuarantinedRow = apps.get_model("submissions", "QuarantinedRow")
    Submission = apps.get_model("submissions", "Submission")
    batch = []
    for q in QuarantinedRow.objects.select_related("submission").only("pk", "record_id", "submission__organisation_id") \
            .order_by("pk").iterator(chunk_size=2000):
        q.record_id = _record_id_hash(key, q.submission.organisation_id, q.record_id)
        batch.append(q)
        if len(batch) == 2000:
            QuarantinedRow.objects.bulk_update(batch, ["record_id"])
            batch = []
    QuarantinedRow.objects.bulk_update(batch, ["record_id"])
    for s in Submission.objects.exclude(staged_path="").only("pk", "organisation_id", "staged_path"):
        if not default_storage.exists(s.staged_path):
            continue
        with default_storage.open(s.staged_path, "rb") as fh:
            frame = pl.read_parquet(io.BytesIO(fh.read()))
        frame = frame.with_columns(pl.Series("record_id", [
            None if v is None else _record_id_hash(key, s.organisation_id, v) for v in frame["record_id"].to_list()
        ], dtype=pl.String))
        buf = io.BytesIO()
        frame.write_parquet(buf)
        default_storage.delete(s.staged_path)
        default_storage.save(s.staged_path, ContentFile(buf.getvalue()))


class Migration(migrations.Migration):
    dependencies = [("submissions", "0003_drop_cross_org_stats"), ("cases", "0003_record_id_hashed")]
    operations = [
        migrations.AlterField(
            model_name="quarantinedrow", name="record_id",
            field=models.CharField(max_length=128, help_text="Keyed hash of the record id (as cases.Victim); the "
                                                             "row number is what the contributor sees.")),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
