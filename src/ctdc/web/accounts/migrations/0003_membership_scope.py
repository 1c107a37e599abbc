"""Stewards and administrators are global, contributors belong to one organisation: a database constraint.

Rows that broke the rule before it existed are made safe first, towards less access: a steward membership scoped
to an organisation becomes a contributor membership of that organisation (it had been acting globally, which is
the gap issue 16 found), and a contributor membership without an organisation (which gave nothing) is removed."""

from django.db import migrations, models


def narrow(apps, schema_editor):
    Membership = apps.get_model("accounts", "Membership")
    for m in Membership.objects.filter(role="steward", organisation__isnull=False):
        if Membership.objects.filter(user=m.user_id, organisation=m.organisation_id, role="contributor").exists():
            m.delete()
        else:
            m.role = "contributor"
            m.save(update_fields=["role"])
    Membership.objects.filter(role="contributor", organisation__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_invitation")]

    operations = [
        migrations.RunPython(narrow, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="membership", name="role",
            field=models.CharField(choices=[("contributor", "Contributor"), ("steward", "Data steward"),
                                            ("administrator", "Administrator")], max_length=16)),
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.CheckConstraint(
                condition=(models.Q(role="contributor", organisation__isnull=False)
                           | models.Q(role__in=["steward", "administrator"], organisation__isnull=True)),
                name="membership_scope_follows_role",
                violation_error_message="A contributor acts for one organisation; a steward or an administrator "
                                        "for the whole repository, never for one organisation.")),
    ]
