"""The harmonized store: approved records of the central repository, one table per dataset type.

Direct identifiers never reach these tables (the intake pipeline drops them); only a keyed hash of them is kept,
to flag the same person registered by two organisations.
"""

import uuid

from django.db import models

from ctdc.web.accounts.models import Organisation


def _new_victim_id() -> str:
    return uuid.uuid4().hex


class Victim(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="victims")
    submission = models.ForeignKey("submissions.Submission", on_delete=models.PROTECT, related_name="victims",
                                   help_text="The submission that last wrote this record.")
    record_id = models.CharField(max_length=128, help_text="Keyed hash (HMAC-SHA256 with the identity key, bound "
                                                          "to the organisation) of the contributor's own record "
                                                          "id; never the id itself.")
    source_row = models.PositiveIntegerField(help_text="Row of the record in the submitted file.")
    mapping_version = models.CharField(max_length=32)
    identity_hash = models.CharField(max_length=64, null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    registration_year = models.PositiveSmallIntegerField(null=True, blank=True)
    data_source = models.CharField(max_length=32, null=True, blank=True)
    gender = models.CharField(max_length=32, null=True, blank=True)
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    age_band = models.CharField(max_length=8, null=True, blank=True)
    majority_status = models.CharField(max_length=8, null=True, blank=True)
    majority_status_at_exploitation = models.CharField(max_length=8, null=True, blank=True)
    citizenship = models.CharField(max_length=2, null=True, blank=True)
    country_of_exploitation = models.CharField(max_length=2, null=True, blank=True)
    exploitation_types = models.CharField(max_length=255, null=True, blank=True)
    labour_sectors = models.CharField(max_length=255, null=True, blank=True)
    sexual_exploitation_types = models.CharField(max_length=255, null=True, blank=True)
    means_of_control = models.CharField(max_length=512, null=True, blank=True)
    is_abduction = models.BooleanField(null=True, blank=True)
    recruiter_relations = models.CharField(max_length=255, null=True, blank=True)
    trafficking_duration = models.CharField(max_length=16, null=True, blank=True)
    # Added with standard 0.2.0.
    victim_id = models.CharField(max_length=32, unique=True, default=_new_victim_id,
                                 help_text="Random key for links (perpetrators, journeys); never released as is.")
    trafficking_status = models.CharField(max_length=48, null=True, blank=True)
    trafficking_status_decided_by = models.CharField(max_length=48, null=True, blank=True)
    age_at_exploitation = models.PositiveSmallIntegerField(null=True, blank=True)
    majority_status_at_entry = models.CharField(max_length=8, null=True, blank=True)
    labour_sectors_isic = models.CharField(max_length=255, null=True, blank=True)
    means_of_control_groups = models.CharField(max_length=255, null=True, blank=True)
    recruitment_methods = models.CharField(max_length=512, null=True, blank=True)
    recruitment_platforms = models.CharField(max_length=512, null=True, blank=True)
    exploitation_platforms = models.CharField(max_length=512, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "record_id"], name="unique_victim_record"),
            models.CheckConstraint(condition=models.Q(age__lte=110), name="victim_age_plausible"),
        ]
