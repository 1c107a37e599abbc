"""Standard 0.3.0: a victim record may have no registration year (suppressed in a k-anonymized file, or not
known to the contributor); it is accepted with the year missing (issue 14, item 4)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0003_record_id_hashed'),
    ]

    operations = [
        migrations.AlterField(
            model_name='victim',
            name='registration_year',
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
    ]
