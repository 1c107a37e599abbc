"""Routes of trafficking journeys: one row per victim, derived from their journey events (issue 17, item 4).

NOTE: pure Python on polars; never import Django here (tests/test_core_is_pure.py enforces it).

A victim's journey events (`journey_events`: recruitment -> transit -> exploitation, each with a country and a
year/month at the precision the source knew) become one route:

    origin_country       country of the first recruitment event (else of the first event)
    transit_country      first transit country that is neither the origin nor the destination (else missing)
    destination_country  country of the first exploitation event (else of the last event)
    journey_duration     months from the first recruitment event to the first exploitation event, as a band of the
                         code list `trafficking_duration` (0-12m, 13-24m, 25m+), only where both dates have a month
    period               five-year period (code list `period`) of the first event's year
    exploitation_types   the victim's exploitation types (victims.exploitation_types)

Events are ordered by `sequence`, then by date; events with no country are skipped. The whole country sequence
is kept by the repository, never released: a full sequence is close to unique per victim. Only the corridor
(origin -> first transit -> destination) is released, through the release methods, one row per victim (the
contribution bound of `ctdc.release.linked` is 1).

>>> events = pl.DataFrame({"victim_id": ["a", "a", "a", "b"], "sequence": [1, 2, 3, 1],
...     "event_type": ["recruitment", "transit", "exploitation", "exploitation"],
...     "country": ["NG", "NE", "IT", "US"], "event_year": [2019, 2019, 2020, 2018],
...     "event_month": [3, 5, 4, None]})
>>> routes_from_events(events).rows()
[('a', 'NG', 'NE', 'IT', '13-24m', '2015-2019', None), ('b', 'US', None, 'US', None, '2015-2019', None)]
"""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import polars as pl

from ctdc.standard import Dataset, load_standard

ROUTE_COLUMNS = ("origin_country", "transit_country", "destination_country", "journey_duration", "period",
                 "exploitation_types")
# The corridor: the three countries a route count is made of.
CORRIDOR = ("origin_country", "transit_country", "destination_country")


def route_dataset() -> Dataset:
    """The route table's columns as a `Dataset` of the standard's own fields (code lists, roles, labels)."""
    std = load_standard()
    country = std.dataset("journey_events").field("country")
    victims = std.dataset("victims")
    year = std.dataset("journey_events").field("event_year")
    fields = (
        replace(country, name="origin_country", label="Country of origin (recruitment)"),
        replace(country, name="transit_country", label="Country of transit"),
        replace(country, name="destination_country", label="Country of destination (exploitation)"),
        replace(victims.field("trafficking_duration"), name="journey_duration",
                label="Duration of the journey (recruitment to exploitation)", role="sensitive"),
        replace(year, name="period", label="Period (of recruitment)", type="code",
                codelist=std.codelist("period"), hierarchy=("period",), min=None, max=None, unit=""),
        victims.field("exploitation_types"),
    )
    return dataclasses.replace(
        std.dataset("journey_events"), fields=fields,
        description="One row per victim: the route of their trafficking journey (country of origin, first country "
                    "of transit, country of destination), how long it took where dates allow, when it started, "
                    "and the forms of exploitation.",
        privacy_unit="one victim with their whole journey (one route row)")


def _period_of(year: pl.Expr) -> pl.Expr:
    """The five-year period code (`2015-2019`) of a year; before 2000 -> `1900-1999`."""
    start = (year // 5) * 5
    return (pl.when(year < 2000).then(pl.lit("1900-1999"))
            .otherwise(start.cast(pl.String) + "-" + (start + 4).cast(pl.String)))


def _duration_band(months: pl.Expr) -> pl.Expr:
    return (pl.when(months.is_null() | (months < 0)).then(None).when(months <= 12).then(pl.lit("0-12m"))
            .when(months <= 24).then(pl.lit("13-24m")).otherwise(pl.lit("25m+")))


def routes_from_events(events: pl.DataFrame, victims: pl.DataFrame | None = None) -> pl.DataFrame:
    """One route row per victim with at least one event that has a country (see the module docstring).

    `events`: victim_id, sequence, event_type, country, event_year, event_month (the last three may be missing).
    `victims` (optional): victim_id, exploitation_types, joined onto the routes. Rows are ordered by victim_id.
    """
    e = events.filter(pl.col("country").is_not_null()).sort(
        "victim_id", "sequence", "event_year", "event_month", nulls_last=True)
    first = pl.col("country").first()
    date = pl.col("event_year") * 12 + pl.col("event_month") - 1
    is_recruit, is_exploit = pl.col("event_type") == "recruitment", pl.col("event_type") == "exploitation"
    routes = e.group_by("victim_id", maintain_order=True).agg(
        pl.coalesce(pl.col("country").filter(is_recruit).first(), first).alias("origin_country"),
        pl.coalesce(pl.col("country").filter(is_exploit).first(), pl.col("country").last()).alias(
            "destination_country"),
        (date.filter(is_exploit).first() - date.filter(is_recruit).first()).alias("_months"),
        pl.col("event_year").first().alias("_year"),
    )
    # The first transit, in journey order, that is at neither end of the route.
    transit = (e.filter(pl.col("event_type") == "transit").select("victim_id", "country")
               .join(routes.select("victim_id", "origin_country", "destination_country"), on="victim_id",
                     maintain_order="left")
               .filter((pl.col("country") != pl.col("origin_country"))
                       & (pl.col("country") != pl.col("destination_country")))
               .group_by("victim_id", maintain_order=True).agg(pl.col("country").first().alias("transit_country")))
    out = routes.join(transit, on="victim_id", how="left", maintain_order="left").select(
        "victim_id", "origin_country", "transit_country", "destination_country",
        _duration_band(pl.col("_months")).alias("journey_duration"),
        pl.when(pl.col("_year").is_null()).then(None).otherwise(_period_of(pl.col("_year"))).alias("period"),
    )
    if victims is not None:
        out = out.join(victims.select("victim_id", "exploitation_types"), on="victim_id", how="left",
                       maintain_order="left")
    else:
        out = out.with_columns(pl.lit(None, dtype=pl.String).alias("exploitation_types"))
    return out.sort("victim_id")


def corridor_label(origin: str | None, transit: str | None, destination: str | None) -> str:
    """`NG > NE > IT`; `NG > IT` with no transit; a missing or suppressed end shows as `*`.

    >>> corridor_label("NG", None, "IT"), corridor_label("*", None, "IT")
    ('NG > IT', '* > IT')
    """
    parts = [origin or "*", *([transit] if transit else []), destination or "*"]
    return " > ".join(parts)


def corridor_counts(micro: pl.DataFrame, *, k: int) -> list[dict]:
    """Counts of the corridors (origin, transit, destination) of released route rows, overall (`exploitation_type`
    and `period` empty), by exploitation type, by period, and by both; counts below `k` are suppressed, and so is
    a corridor with a suppressed (`*`) or missing end. A victim with two exploitation types counts once in each.

    Computed on the protected microdata only (post-processing of the release), never on the input.

    >>> rows = pl.DataFrame({"origin_country": ["NG"] * 3 + ["UA"], "transit_country": [None] * 4,
    ...     "destination_country": ["IT"] * 3 + ["PL"], "period": ["2015-2019"] * 4,
    ...     "exploitation_types": ["sexual_exploitation"] * 2 + ["forced_labour"] * 2})
    >>> [(c["origin"], c["destination"], c["exploitation_type"], c["period"], c["count"])
    ...  for c in corridor_counts(rows, k=2)]
    [('NG', 'IT', '', '', 3), ('NG', 'IT', '', '2015-2019', 3), ('NG', 'IT', 'sexual_exploitation', '', 2), \
('NG', 'IT', 'sexual_exploitation', '2015-2019', 2)]
    """
    ends = (pl.col("origin_country").is_not_null() & pl.col("destination_country").is_not_null()
            & (pl.col("origin_country") != "*") & (pl.col("destination_country") != "*"))
    # One row per released route row: a suppressed period is not a category, it is left out.
    routes = micro.filter(ends).select(
        pl.col("origin_country").alias("origin"),
        # A suppressed transit, or a synthetic row's transit equal to one of its ends (a route never has one: see
        # routes_from_events), is no transit.
        pl.when(pl.col("transit_country").is_in(["*"]) | (pl.col("transit_country") == pl.col("origin_country"))
                | (pl.col("transit_country") == pl.col("destination_country")))
        .then(None).otherwise(pl.col("transit_country")).alias("transit"),
        pl.col("destination_country").alias("destination"),
        pl.col("period").fill_null("").replace("*", ""),
        pl.col("exploitation_types").fill_null("").str.split(";").alias("types"),
    )
    by_type = routes.explode("types").rename({"types": "exploitation_type"}).filter(
        ~pl.col("exploitation_type").is_in(["", "*"]))
    corridor = ["origin", "transit", "destination"]
    parts = []
    for split_type in (False, True):
        for split_period in (False, True):
            rows = by_type if split_type else routes.drop("types").with_columns(pl.lit("").alias("exploitation_type"))
            if split_period:
                rows = rows.filter(pl.col("period") != "")
            else:
                rows = rows.with_columns(pl.lit("").alias("period"))
            parts.append(rows.group_by(*corridor, "exploitation_type", "period").len("count")
                         .filter(pl.col("count") >= k).select(*corridor, "exploitation_type", "period",
                                                              pl.col("count").cast(pl.Int64)))
    out = pl.concat(parts).sort(["exploitation_type", "period", "count", "origin", "destination"],
                                descending=[False, False, True, False, False], nulls_last=True)
    return out.to_dicts()
