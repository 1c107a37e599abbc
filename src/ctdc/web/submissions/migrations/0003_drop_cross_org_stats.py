"""Remove `possible_cross_org_duplicates` from stored submission stats (issue 13, finding 3).

Validation no longer looks at other organisations' records; counts stored by earlier versions are deleted so no
page, download or later template change can show a contributor what another organisation holds."""

from django.db import migrations

KEY = "possible_cross_org_duplicates"


def forwards(apps, schema_editor):
    Submission = apps.get_model("submissions", "Submission")
    for s in Submission.objects.only("pk", "stats").iterator():
        if isinstance(s.stats, dict) and KEY in s.stats:
            s.stats.pop(KEY)
            Submission.objects.filter(pk=s.pk).update(stats=s.stats)


class Migration(migrations.Migration):
    dependencies = [("submissions", "0002_intake_web")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
