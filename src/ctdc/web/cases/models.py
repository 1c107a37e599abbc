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
    # No index of its own: the unique (organisation, record_id) index serves every lookup by organisation. Indexes
    # are declared in Meta, not as `db_index`/`unique` on the field, so PostgreSQL gets no `varchar_pattern_ops`
    # twin for LIKE queries nobody makes: each index is one more entry to write per approved row (issue 14).
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="victims", db_index=False)
    submission = models.ForeignKey("submissions.Submission", on_delete=models.PROTECT, related_name="victims",
                                   help_text="The submission that last wrote this record.")
    record_id = models.CharField(max_length=128, help_text="Keyed hash (HMAC-SHA256 with the identity key, bound "
                                                          "to the organisation) of the contributor's own record "
                                                          "id; never the id itself.")
    source_row = models.PositiveIntegerField(help_text="Row of the record in the submitted file.")
    mapping_version = models.CharField(max_length=32)
    identity_hash = models.CharField(max_length=64, null=True, blank=True)
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
    victim_id = models.CharField(max_length=32, default=_new_victim_id,
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
    # Added with standard 0.5.0: what a source gives only as a span of years or a region (public CTDC
    # victim-perpetrator file), kept as given.
    registration_year_lower = models.PositiveSmallIntegerField(null=True, blank=True)
    registration_year_upper = models.PositiveSmallIntegerField(null=True, blank=True)
    registration_year_censored = models.BooleanField(null=True, blank=True)
    citizenship_region = models.CharField(max_length=16, null=True, blank=True)
    exploitation_region = models.CharField(max_length=16, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "record_id"], name="unique_victim_record"),
            models.UniqueConstraint(fields=["victim_id"], name="unique_victim_id"),
            models.CheckConstraint(condition=models.Q(age__lte=110), name="victim_age_plausible"),
        ]
        # Partial: only records with a name and birth date have an identity hash (none in a public-layout file), and
        # every query on it compares it with a value, which implies NOT NULL, so the index still serves them; a
        # record without one then writes no entry to it (issue 14).
        indexes = [models.Index(fields=["identity_hash"], name="victim_identity_hash",
                                condition=models.Q(identity_hash__isnull=False))]


def _new_perpetrator_id() -> str:
    return uuid.uuid4().hex


class Perpetrator(models.Model):
    """One perpetrator recorded in a case (dataset `perpetrators`), or, `condensed`, all the perpetrators of one
    victim as a condensed source gives them. Linked to victims only through `VictimPerpetratorLink`.

    `record_id` is the keyed hash of the contributor's own perpetrator id (or of the row, for a file without
    one); `perpetrator_id` is the repository's random key, set once when the record first arrives.
    """

    # Indexes as for Victim: none of its own for organisation, none for LIKE.
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="perpetrators",
                                     db_index=False)
    submission = models.ForeignKey("submissions.Submission", on_delete=models.PROTECT, related_name="perpetrators",
                                   help_text="The submission that last wrote this record.")
    record_id = models.CharField(max_length=128, help_text="Keyed hash of the contributor's perpetrator id.")
    source_row = models.PositiveIntegerField()
    mapping_version = models.CharField(max_length=32)
    identity_hash = models.CharField(max_length=64, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    perpetrator_id = models.CharField(max_length=32, default=_new_perpetrator_id)

    registration_year = models.PositiveSmallIntegerField(null=True, blank=True)
    gender = models.CharField(max_length=32, null=True, blank=True)
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    age_band = models.CharField(max_length=8, null=True, blank=True)
    citizenship = models.CharField(max_length=2, null=True, blank=True)
    roles = models.CharField(max_length=512, null=True, blank=True)
    relation_to_victim = models.CharField(max_length=255, null=True, blank=True)
    role_groups = models.CharField(max_length=255, null=True, blank=True)
    citizenship_region = models.CharField(max_length=16, null=True, blank=True)
    condensed = models.BooleanField(null=True, blank=True)
    genders = models.CharField(max_length=255, null=True, blank=True)
    age_bands = models.CharField(max_length=255, null=True, blank=True)
    citizenship_regions = models.CharField(max_length=255, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "record_id"], name="unique_perpetrator_record"),
            models.UniqueConstraint(fields=["perpetrator_id"], name="unique_perpetrator_id"),
            models.CheckConstraint(condition=models.Q(age__lte=110), name="perpetrator_age_plausible"),
        ]
        indexes = [models.Index(fields=["identity_hash"], name="perpetrator_identity_hash",
                                condition=models.Q(identity_hash__isnull=False))]  # partial, as for Victim


class VictimPerpetratorLink(models.Model):
    """Which perpetrator was involved with which victim (dataset `victim_perpetrator_links`). Both ends belong to
    the organisation that sent the link: a contributor links only its own records."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="perpetrator_links")
    submission = models.ForeignKey("submissions.Submission", on_delete=models.PROTECT,
                                   related_name="perpetrator_links")
    victim = models.ForeignKey(Victim, on_delete=models.CASCADE, related_name="perpetrator_links")
    perpetrator = models.ForeignKey(Perpetrator, on_delete=models.CASCADE, related_name="victim_links")
    source_row = models.PositiveIntegerField()
    mapping_version = models.CharField(max_length=32)
    updated_at = models.DateTimeField(auto_now=True)
    relation_to_victim = models.CharField(max_length=255, null=True, blank=True)
    victim_paid_perpetrator = models.BooleanField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["victim", "perpetrator"], name="unique_victim_perpetrator")]


class GovernmentResponse(models.Model):
    """One published government-response figure (dataset `government_response`): non-personal, released as-is.

    `record_id` is the keyed hash of the figure's natural key in its source (for GLOTIP: country, indicator,
    breakdown, category, sex, age, year), so a newer release of the same source updates the figure in place.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="government_responses")
    submission = models.ForeignKey("submissions.Submission", on_delete=models.PROTECT,
                                   related_name="government_responses",
                                   help_text="The submission that last wrote this figure.")
    record_id = models.CharField(max_length=128, help_text="Keyed hash of the figure's natural key in its source.")
    source_row = models.PositiveIntegerField(help_text="Row of the figure in the submitted file.")
    mapping_version = models.CharField(max_length=32)
    updated_at = models.DateTimeField(auto_now=True)

    country = models.CharField(max_length=2)
    year = models.PositiveSmallIntegerField()
    source = models.CharField(max_length=32)
    source_reference = models.CharField(max_length=512, null=True, blank=True)
    victims_identified = models.PositiveIntegerField(null=True, blank=True)
    victims_identified_minors = models.PositiveIntegerField(null=True, blank=True)
    investigations = models.PositiveIntegerField(null=True, blank=True)
    prosecutions = models.PositiveIntegerField(null=True, blank=True)
    convictions = models.PositiveIntegerField(null=True, blank=True)
    # Standard 0.4.0: one figure per row.
    indicator = models.CharField(max_length=32, null=True, blank=True)
    breakdown = models.CharField(max_length=32, null=True, blank=True)
    category = models.CharField(max_length=255, null=True, blank=True)
    category_country = models.CharField(max_length=2, null=True, blank=True)
    category_status = models.CharField(max_length=16, null=True, blank=True)
    exploitation_form = models.CharField(max_length=32, null=True, blank=True)
    sex = models.CharField(max_length=16, null=True, blank=True)
    age_group = models.CharField(max_length=16, null=True, blank=True)
    value = models.PositiveBigIntegerField(null=True, blank=True)
    value_lower = models.PositiveBigIntegerField(null=True, blank=True)
    value_upper = models.PositiveBigIntegerField(null=True, blank=True)
    value_censored = models.BooleanField(null=True, blank=True)
    release_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "record_id"], name="unique_government_response_record"),
            # A censored figure is an interval and never a number; an exact one is its own interval.
            models.CheckConstraint(condition=~models.Q(value_censored=True, value__isnull=False),
                                   name="censored_figure_has_no_value"),
            models.CheckConstraint(condition=models.Q(value_lower__lte=models.F("value_upper"))
                                   | models.Q(value_lower__isnull=True) | models.Q(value_upper__isnull=True),
                                   name="figure_bounds_ordered"),
        ]


class JourneyEvent(models.Model):
    """One stage of a victim's trafficking journey (dataset `journey_events`): recruitment, transit or exploitation,
    with its country and date at the precision the source knew (exact dates and places never reach this table).
    The victim belongs to the organisation that sent the event; `record_id` is the keyed hash of the contributor's
    event id (or of the row)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="journey_events")
    submission = models.ForeignKey("submissions.Submission", on_delete=models.PROTECT, related_name="journey_events")
    victim = models.ForeignKey(Victim, on_delete=models.CASCADE, related_name="journey_events")
    record_id = models.CharField(max_length=128, help_text="Keyed hash of the contributor's event id.")
    source_row = models.PositiveIntegerField()
    mapping_version = models.CharField(max_length=32)
    updated_at = models.DateTimeField(auto_now=True)
    sequence = models.PositiveSmallIntegerField(null=True, blank=True)
    event_type = models.CharField(max_length=16)
    country = models.CharField(max_length=2, null=True, blank=True)
    event_year = models.PositiveSmallIntegerField(null=True, blank=True)
    event_month = models.PositiveSmallIntegerField(null=True, blank=True)
    date_precision = models.CharField(max_length=8, null=True, blank=True)
    transport_modes = models.CharField(max_length=255, null=True, blank=True)
    crossed_border = models.BooleanField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "record_id"], name="unique_journey_event_record"),
            models.CheckConstraint(condition=models.Q(event_month__gte=1, event_month__lte=12)
                                   | models.Q(event_month__isnull=True), name="journey_event_month_valid"),
        ]


class RecruitmentFee(models.Model):
    """A fee or related cost a victim paid or owed to be recruited or moved (dataset `recruitment_fees`), as given:
    its amount in its own currency and year. Base-year US dollars are computed at release (ctdc.standard.money),
    so a new edition of the rates never rewrites this table; `record_id` is the keyed hash of the contributor's
    fee id (or of the row)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="recruitment_fees")
    submission = models.ForeignKey("submissions.Submission", on_delete=models.PROTECT,
                                   related_name="recruitment_fees")
    victim = models.ForeignKey(Victim, on_delete=models.CASCADE, related_name="recruitment_fees")
    record_id = models.CharField(max_length=128, help_text="Keyed hash of the contributor's fee id.")
    source_row = models.PositiveIntegerField()
    mapping_version = models.CharField(max_length=32)
    updated_at = models.DateTimeField(auto_now=True)
    amount = models.FloatField()
    currency = models.CharField(max_length=3)
    fee_year = models.PositiveSmallIntegerField(null=True, blank=True)
    paid_to = models.CharField(max_length=32, null=True, blank=True)
    financed_by_debt = models.BooleanField(null=True, blank=True)
    origin_country = models.CharField(max_length=2, null=True, blank=True)
    destination_country = models.CharField(max_length=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "record_id"], name="unique_recruitment_fee_record"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="recruitment_fee_amount_not_negative"),
        ]
