"""The government-response section of a country profile: the latest published `government_response` release.

These are published aggregates (no person), released as validated (`ctdc.release.published`), so the profile shows
them as published: no threshold, no noise. A censored figure (GLOTIP's `<5`) reads "1–4", never a number. Each
process keeps the release's table in memory, read once per release version from the release storage.
"""

from __future__ import annotations

import io
import threading

import polars as pl

from ctdc.standard import load_standard
from ctdc.web.portal.selectors import _latest_release
from ctdc.web.releases.store import release_file_open

DATASET = "government_response"
_lock = threading.Lock()
_tables: dict[tuple, pl.DataFrame] = {}


def _table(release) -> pl.DataFrame | None:
    key = (release.pk, release.version, release.created_at)
    with _lock:
        hit = _tables.get(key)
    if hit is not None:
        return hit
    fh = release_file_open(release=release, name="data.parquet")
    if fh is None:
        return None
    with fh:
        table = pl.read_parquet(io.BytesIO(fh.read()))
    with _lock:
        _tables.clear()  # only the latest release is ever shown
        _tables[key] = table
    return table


def figure_text(value: int | None, lower: int | None, upper: int | None, censored: bool | None) -> str:
    """How one figure reads: '1,192', or '1–4' for a censored one.

    >>> figure_text(1192, 1192, 1192, False), figure_text(None, 1, 4, True)
    ('1,192', '1–4')
    """
    if censored:
        return f"{lower:,}–{upper:,}"
    return f"{value:,}" if value is not None else "–"


def _label(codelist: str, code: str | None, lang: str) -> str:
    cl = load_standard().codelist(codelist)
    return cl.label_of(code, lang) if code and code in cl else (code or "")


def _country(code: str | None, lang: str) -> str:
    from ctdc.web.portal.labels import value_label

    return value_label("citizenship", code, lang) if code else ""


def government_response_profile(iso: str, lang: str = "en") -> dict | None:
    """What the latest published release says about country `iso`, ready for the template; None when no release
    of government response is published or it holds nothing about the country."""
    release = _latest_release(DATASET)
    if release is None:
        return None
    table = _table(release)
    if table is None or "indicator" not in table.columns:
        return None
    mine = table.filter(pl.col("country") == iso)
    abroad = table.filter((pl.col("category_country") == iso) & (pl.col("country") != iso)
                          & (pl.col("breakdown") == "citizenship"))
    if not mine.height and not abroad.height:
        return None
    totals = mine.filter((pl.col("breakdown") == "total") & (pl.col("sex") == "total")
                         & (pl.col("age_group") == "total"))
    years = sorted(totals["year"].unique().to_list())
    indicators = [c for c in load_standard().codelist("response_indicator").codes if c in set(totals["indicator"])]
    cells = {(r["indicator"], r["year"]): figure_text(r["value"], r["value_lower"], r["value_upper"],
                                                      r["value_censored"])
             for r in totals.iter_rows(named=True)}
    rows = [{"label": _label("response_indicator", ind, lang),
             "cells": [cells.get((ind, y), "") for y in years]} for ind in indicators]
    citizenship = []
    by_cit = mine.filter((pl.col("breakdown") == "citizenship") & (pl.col("indicator") == "victims_detected"))
    cit_year = by_cit["year"].max() if by_cit.height else None
    latest = by_cit.filter(pl.col("year") == cit_year) if cit_year is not None else by_cit.clear()
    for r in latest.sort("value_upper", descending=True).iter_rows(named=True):
        citizenship.append({
            "label": _country(r["category_country"], lang) if r["category_country"] else r["category"] or "",
            "published": r["category"] or "(blank)", "status": r["category_status"] or "",
            "figure": figure_text(r["value"], r["value_lower"], r["value_upper"], r["value_censored"])})
    elsewhere = [{"country": _country(r["country"], lang), "iso": r["country"], "year": r["year"],
                  "published": r["category"] or "",
                  "figure": figure_text(r["value"], r["value_lower"], r["value_upper"], r["value_censored"])}
                 for r in abroad.sort("year", "country", descending=[True, False]).iter_rows(named=True)]
    sources = sorted({(_label("response_source", s, lang), str(d) if d else "")
                      for s, d in mine.select("source", pl.col("release_date") if "release_date" in mine.columns
                                              else pl.lit(None)).unique().iter_rows()})
    return {"release": release, "years": years, "rows": rows, "citizenship": citizenship,
            "citizenship_year": cit_year, "elsewhere": elsewhere, "sources": sources,
            "censored": bool(mine["value_censored"].fill_null(False).any()) if mine.height else False}
