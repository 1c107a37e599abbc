"""Reads on releases. Dashboards and the API read only published releases, never the central repository."""

from __future__ import annotations

from collections import Counter

import polars as pl
from django.db.models import F

from ctdc.ingest.identity import identity_groups
from ctdc.standard import load_standard
from ctdc.web.cases.models import Victim
from ctdc.web.releases.models import Release, ReleaseBuild
from ctdc.web.submissions.models import DuplicateFlag


def release_latest(*, dataset: str = "victims") -> Release | None:
    return (Release.objects.filter(dataset=dataset, status=Release.Status.PUBLISHED)
            .order_by(F("published_at").desc(nulls_last=True), "-created_at", "-id").first())


def release_list(*, dataset: str | None = None, public: bool = False):
    """Every release, newest first; `public` hides drafts (withdrawn releases stay listed, with their reason)."""
    qs = Release.objects.all()
    if public:
        qs = qs.exclude(status=Release.Status.DRAFT)
    return qs.filter(dataset=dataset) if dataset else qs


def release_get(*, dataset: str, version: str) -> Release:
    try:
        return Release.objects.get(dataset=dataset, version=version)
    except Release.DoesNotExist:
        from ctdc.errors import ReleaseError

        raise ReleaseError(f"No release {version} of dataset '{dataset}'.",
                           {"dataset": dataset, "version": version}) from None


def release_build_list(*, dataset: str | None = None, limit: int = 20):
    qs = ReleaseBuild.objects.select_related("release")
    return (qs.filter(dataset=dataset) if dataset else qs)[:limit]


def release_snapshot(*, dataset: str = "victims") -> tuple[pl.DataFrame, dict]:
    """One row per person of the central repository (the privacy unit), as one snapshot, and facts about it.

    The privacy unit of every release is one victim. A person registered by two organisations (or twice by one)
    is two stored records, so the snapshot keeps one record per identity group (`identity_groups`): records
    sharing a keyed identity hash, unless a steward dismissed the pair, and pairs a steward confirmed. Open flags
    count as one person. The record kept is the group's first approved one (smallest key): which one is kept
    depends on no field value, and a record another organisation uploads later never replaces it.

    One SELECT reads the records together with their organisation's kind, so the frame and the counts by
    contributor type describe the same instant even while submissions are being approved.
    """
    if dataset == "government_response":
        return _figures_snapshot(dataset)
    if dataset == "perpetrators":
        return _links_snapshot()
    if dataset == "journey_events":
        return _routes_snapshot()
    if dataset == "recruitment_fees":
        return _fees_snapshot()
    if dataset != "victims":
        from ctdc.errors import ReleaseError

        raise ReleaseError(f"No harmonized store for dataset '{dataset}' yet; only 'victims' and "
                           "'government_response' can be released.", {"dataset": dataset})
    stored = load_standard().dataset(dataset).stored_fields
    fields = [f.name for f in stored]
    rows = list(Victim.objects.order_by("pk").values_list("pk", "identity_hash", *fields, "organisation__kind"))
    keys, groups = _identity_groups([r[0] for r in rows], [r[1] for r in rows])
    kept = [r for r, keep in zip(rows, (keys == groups).to_list(), strict=True) if keep]
    kinds = Counter(r[-1] for r in kept)
    types = {"integer": pl.Int64, "boolean": pl.Boolean}
    schema = {f.name: types.get(f.type, pl.String) for f in stored}
    frame = pl.DataFrame([r[2:-1] for r in kept], schema=schema, orient="row")
    return frame, {"records_by_contributor_type": dict(sorted(kinds.items()))}


def release_contributors(*, dataset: str = "victims") -> dict[str, int]:
    """How many organisations contribute `dataset`, by type: those with an approved submission of it.

    What the public list of contributors shows (the data-sharing agreement credits each contributor by name
    unless it asks not to be named), reduced to counts by type: organisations, never their records, so a release
    may state it (`build_release(contributors=...)`). Whether an organisation contributes is a fact about the
    organisation, settled when it signs and shares, not about any victim.
    """
    from django.db.models import Count

    from ctdc.web.submissions.models import Submission

    rows = (Submission.objects.filter(dataset=dataset, status=Submission.Status.APPROVED)
            .values_list("organisation__kind").annotate(n=Count("organisation", distinct=True)))
    return {kind: n for kind, n in sorted(rows)}


def _figures_snapshot(dataset: str) -> tuple[pl.DataFrame, dict]:
    """Every approved figure of a dataset of published aggregates (no person: no identity groups to fold)."""
    from ctdc.web.cases.models import GovernmentResponse

    stored = load_standard().dataset(dataset).stored_fields
    rows = list(GovernmentResponse.objects.order_by("pk").values_list(*(f.name for f in stored)))
    types = {"integer": pl.Int64, "boolean": pl.Boolean, "date": pl.Date}
    schema = {f.name: types.get(f.type, pl.String) for f in stored}
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return frame, {"figures_by_source": dict(Counter(frame["source"].to_list()))}


def _victim_groups() -> dict[int, int]:
    """Each stored victim's identity group (its key -> the group's key), as the victims snapshot folds them."""
    victims = list(Victim.objects.order_by("pk").values_list("pk", "identity_hash"))
    keys, groups = _identity_groups([r[0] for r in victims], [r[1] for r in victims])
    return dict(zip(keys.to_list(), groups.to_list(), strict=True))


def _identity_groups(keys: list[int], hashes: list[str | None]) -> tuple[pl.Series, pl.Series]:
    """(the records' keys, each one's identity group key) with the stewards' duplicate verdicts applied.

    Flags are written in the approval's transaction with their records; a flag naming a record the caller's
    SELECT did not see is ignored by identity_groups.
    """
    verdicts = DuplicateFlag.objects.exclude(status=DuplicateFlag.Status.OPEN).values_list("record_id", "other_id",
                                                                                          "status")
    different = [(a, b) for a, b, st in verdicts if st == DuplicateFlag.Status.DISMISSED]
    same = [(a, b) for a, b, st in verdicts if st == DuplicateFlag.Status.CONFIRMED]
    series = pl.Series(keys, dtype=pl.Int64)
    return series, identity_groups(series, pl.Series(hashes, dtype=pl.String), different=different, same=same)


def _kept_victims_rows(model, columns: list[str], schema: dict, related: str,
                       victim_field: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every row of `model` (a table of rows per victim), in key order, of the kept record of each identity group
    only (a person registered twice contributes once), with `schema`'s names and types; and `victim_field` of the
    victims that have such rows (reverse relation `related`). Victim ids as text in both."""
    group_of = _victim_groups()
    kept = [pk for pk, group in group_of.items() if pk == group]
    rows = pl.DataFrame(list(model.objects.order_by("pk").values_list(*columns)), schema=schema, orient="row")
    rows = rows.filter(pl.col("victim_id").is_in(kept)).with_columns(pl.col("victim_id").cast(pl.String))
    victims = pl.DataFrame(list(Victim.objects.filter(**{f"{related}__isnull": False}).distinct()
                                .values_list("pk", victim_field)),
                           schema={"victim_id": pl.Int64, victim_field: pl.String}, orient="row")
    return rows, victims.with_columns(pl.col("victim_id").cast(pl.String))


def _fees_snapshot() -> tuple[pl.DataFrame, dict]:
    """The table a recruitment_fees release is built from (`ctdc.release.fees.victim_fee_table`): one row per
    person, their total fees. As for routes, a person registered twice counts once: the fees of the identity
    group's kept record only."""
    from ctdc.release.fees import victim_fee_table
    from ctdc.web.cases.models import RecruitmentFee

    columns = ["victim_id", "record_id", "amount", "currency", "fee_year", "origin_country", "destination_country"]
    schema = {"victim_id": pl.Int64, "fee_id": pl.String, "amount": pl.Float64, "currency": pl.String,
              "fee_year": pl.Int64, "origin_country": pl.String, "destination_country": pl.String}
    # The keyed hash of the contributor's fee id is the random key choosing a victim's first fee.
    fees, victims = _kept_victims_rows(RecruitmentFee, columns, schema, "recruitment_fees", "labour_sectors")
    frame = victim_fee_table(fees, victims)
    return frame, {"recruitment_fees": fees.height, "victims_with_fees": frame.height}


def _routes_snapshot() -> tuple[pl.DataFrame, dict]:
    """The route table a journey_events release is built from (`ctdc.release.routes`): one route per person.

    A person registered twice (one identity group) has one route: the events of the group's kept record (the
    smallest key, as the victims snapshot keeps it), so the contribution bound of one row per victim holds.
    """
    from ctdc.release.routes import routes_from_events
    from ctdc.web.cases.models import JourneyEvent

    columns = ["victim_id", "sequence", "event_type", "country", "event_year", "event_month"]
    schema = {"victim_id": pl.Int64, "sequence": pl.Int64, "event_type": pl.String, "country": pl.String,
              "event_year": pl.Int64, "event_month": pl.Int64}
    events, victims = _kept_victims_rows(JourneyEvent, columns, schema, "journey_events", "exploitation_types")
    frame = routes_from_events(events, victims)
    return frame, {"journey_events": events.height, "victims_with_routes": frame.height}


def _links_snapshot() -> tuple[pl.DataFrame, dict]:
    """The link table a perpetrators release is built from (`ctdc.release.linked`): one row per victim-perpetrator
    link, keyed by the victim's identity group (one person registered twice is one victim, as in the victims
    snapshot, so the contribution bound holds per person) and the perpetrator's random key.

    Region of citizenship and of exploitation fall back on the country's region; a link's own relation to the
    victim takes precedence over the perpetrator's.
    """
    from ctdc.ingest.stages.derive import citizenship_regions as _regions
    from ctdc.web.cases.models import VictimPerpetratorLink

    group_of = _victim_groups()
    columns = ["victim_id", "perpetrator__perpetrator_id", "perpetrator__gender", "perpetrator__age_band",
               "perpetrator__citizenship_region", "perpetrator__citizenship", "perpetrator__role_groups",
               "relation_to_victim", "perpetrator__relation_to_victim", "victim_paid_perpetrator",
               "victim__exploitation_region", "victim__country_of_exploitation"]
    rows = list(VictimPerpetratorLink.objects.order_by("pk").values_list(*columns))
    raw = pl.DataFrame(rows, schema={c: pl.Boolean if c == "victim_paid_perpetrator" else
                                     (pl.Int64 if c == "victim_id" else pl.String) for c in columns}, orient="row")
    citizenship = _regions(raw["perpetrator__citizenship"])
    exploitation = _regions(raw["victim__country_of_exploitation"])
    frame = raw.select(
        pl.col("victim_id").replace_strict(group_of, default=None).cast(pl.String).alias("victim_id"),
        pl.col("perpetrator__perpetrator_id").alias("perpetrator_id"),
        pl.col("perpetrator__gender").alias("gender"),
        pl.col("perpetrator__age_band").alias("perpetrator_age_band"),
        pl.coalesce(pl.col("perpetrator__citizenship_region"), pl.lit(citizenship)).alias("citizenship_region"),
        pl.col("perpetrator__role_groups").alias("role_groups"),
        pl.coalesce("relation_to_victim", "perpetrator__relation_to_victim").alias("relation_to_victim"),
        "victim_paid_perpetrator",
        pl.coalesce(pl.col("victim__exploitation_region"), pl.lit(exploitation)).alias("exploitation_region"),
    )
    return frame, {"links": frame.height, "victims_with_links": frame["victim_id"].n_unique()}
