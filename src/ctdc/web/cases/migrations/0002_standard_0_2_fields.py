"""Fields added by standard 0.2.0. victim_id is unique: existing rows get a fresh random key first."""

import uuid

from django.db import migrations, models

import ctdc.web.cases.models


def fill_victim_ids(apps, schema_editor):
    Victim = apps.get_model("cases", "Victim")
    for victim in Victim.objects.filter(victim_id__isnull=True).only("pk").iterator():
        Victim.objects.filter(pk=victim.pk).update(victim_id=uuid.uuid4().hex)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [
        migrations.AddField("victim", "victim_id", models.CharField(max_length=32, null=True)),
        migrations.RunPython(fill_victim_ids, migrations.RunPython.noop),
        migrations.AlterField(
            "victim", "victim_id",
            models.CharField(default=ctdc.web.cases.models._new_victim_id, max_length=32, unique=True,
                             help_text="Random key for links (perpetrators, journeys); never released as is."),
        ),
        migrations.AddField("victim", "trafficking_status", models.CharField(blank=True, max_length=48, null=True)),
        migrations.AddField("victim", "trafficking_status_decided_by", models.CharField(blank=True, max_length=48, null=True)),
        migrations.AddField("victim", "age_at_exploitation", models.PositiveSmallIntegerField(blank=True, null=True)),
        migrations.AddField("victim", "majority_status_at_entry", models.CharField(blank=True, max_length=8, null=True)),
        migrations.AddField("victim", "labour_sectors_isic", models.CharField(blank=True, max_length=255, null=True)),
        migrations.AddField("victim", "means_of_control_groups", models.CharField(blank=True, max_length=255, null=True)),
        migrations.AddField("victim", "recruitment_methods", models.CharField(blank=True, max_length=512, null=True)),
        migrations.AddField("victim", "recruitment_platforms", models.CharField(blank=True, max_length=512, null=True)),
        migrations.AddField("victim", "exploitation_platforms", models.CharField(blank=True, max_length=512, null=True)),
    ]
