"""Rules of UNODC's GLOTIP country data (preset `unodc-glotip`), beyond what its column mapping says.

Layout and quirks: docs/ingest.md, "UNODC GLOTIP" (source: UNODC, Global Report on Trafficking in Persons, country
data, dataUNODC portal). What this module does with each quirk, and the problem code it reports:

- Title rows (workbook): row 2's `DD/MM/YYYY` is the source's release date (`release_date` of every row); the
  contact cell's formula has no cached value and is read as empty, never evaluated. Notes `title-rows`,
  `formula-without-value`; the CSV conversion has no title rows: note `no-release-date`.
- Stored sheet dimension smaller than the rows read: note `wrong-sheet-dimension` (cells are read, not the
  dimension).
- Country: `Iso3_code` is never trusted alone. A `Country` that is a region or a list (`Caribbean`,
  `Aruba/Curacao`) is `not-a-country`, one naming another country than the code is `country-mismatch` (errors:
  quarantined). An empty code with a country name read instead: `country-from-name` (warning).
- Category, by breakdown: forms of exploitation to `exploitation_form`; citizenship and repatriation text through
  `ctdc.ingest.category` to `category_country` and `category_status`, each reading reported as a warning:
  `category-read-as` (demonym, other language, decorated, listed spelling), `encoding-damage`, `own-nationals`,
  `subtotal-category`, `unmapped-category`. Nothing is guessed; the text is kept in `category` either way.
- Implausible values (questionnaire cell references such as `Q6.1_2s_2019` leaked in as numbers in the millions):
  `implausible-value` (error: quarantined for the steward, never published).

Censored `<5`, thousands commas and repeated keys are handled by the pipeline from the mapping
(`censored`, `thousands`, `key`), with their own codes.
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from datetime import datetime
from functools import cache
from importlib import resources

import polars as pl

from ctdc.ingest import problems as P
from ctdc.ingest.category import resolve_category
from ctdc.ingest.countries import country_lookup, normalise_key
from ctdc.ingest.sources import SourceContext

_CELL_REFERENCE = r"^Q\d+(\.\d+)*_"
# A figure more than this many times the largest total the country reports for the indicator is implausible.
_PLAUSIBLE_RATIO = 10
_MILLIONS = 1_000_000
_EXPLOITATION = {"sexualexploitation": "sexual_exploitation", "forcedlabour": "forced_labour",
                 "forcedlabor": "forced_labour", "otherformsofexploitation": "other", "other": "other"}


@cache
def _regions() -> frozenset[str]:
    """Folded names of every UN M49 region, sub-region and intermediate region (and `world`)."""
    text = resources.files("ctdc.standard").joinpath("codelists/un_m49.csv").read_text(encoding="utf-8")
    names = {"world"}
    for row in csv.DictReader(text.splitlines()):
        names |= {normalise_key(row[k]) for k in ("intermediate_region", "subregion", "region") if row[k]}
    return frozenset(names)


@cache
def listed_spellings() -> dict[str, str | None]:
    """unodc-glotip.values.json: folded spelling -> alpha-2 (or None), checked by hand."""
    raw = json.loads(resources.files("ctdc.ingest").joinpath("presets/unodc-glotip.values.json")
                     .read_text(encoding="utf-8"))
    return {normalise_key(k): v for k, v in raw.items() if not k.startswith("_")}


def _country_name(text: str | None) -> tuple[str | None, bool]:
    """(alpha-2 the Country text names, or None; whether it is a region or a list of places)."""
    if text is None:
        return None, False
    key = normalise_key(text)
    if key in _regions() or "/" in text:
        return None, True
    code = country_lookup().get(key)
    if code is None:
        code, status, _how = resolve_category(text, None)
        code = code if status == "country" else None
    return code, False


def apply(ctx: SourceContext) -> None:
    _title_rows(ctx)
    _dimension(ctx)
    _country(ctx)
    _category(ctx)
    _implausible(ctx)


def _title_rows(ctx: SourceContext) -> None:
    if not ctx.preamble:
        ctx.note("no-release-date")
        return
    ctx.note("title-rows", last=len(ctx.preamble), header=len(ctx.preamble) + 1)
    for i, row in enumerate(ctx.preamble):
        for cell in row:
            try:
                released = datetime.strptime(cell, "%d/%m/%Y").date()
            except ValueError:
                continue
            ctx.constants["release_date"] = released
            ctx.note("release-date", row=i + 1, cell=cell, date=released.isoformat())
            return


def _sheet_xml(ctx: SourceContext) -> str | None:
    try:
        with zipfile.ZipFile(ctx.path) as z:
            sheets = sorted(n for n in z.namelist() if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n))
            return z.read(sheets[0]).decode("utf-8", errors="replace") if sheets else None
    except (zipfile.BadZipFile, OSError):
        return None  # a CSV


def _dimension(ctx: SourceContext) -> None:
    xml = _sheet_xml(ctx)
    if xml is None:
        return
    last_read = ctx.first_data_row + ctx.frame.height - 1
    m = re.search(r'<dimension ref="([A-Z]+)?(\d+)?(?::[A-Z]+(\d+))?"', xml)
    if m:
        stored_last = int(m.group(3) or m.group(2) or 1)
        if stored_last < last_read:
            ctx.note("wrong-sheet-dimension", span=m.group(0)[16:-1], stored_last=stored_last, last_read=last_read)
    for ref in re.findall(r'<c r="([A-Z]+\d+)"[^>]*>\s*<f>(?:(?!</c>).)*?</f>\s*</c>', xml):
        ctx.note("formula-without-value", ref=ref)


def _country(ctx: SourceContext) -> None:
    name_col, code_col = ctx.column("Country"), ctx.column("Iso3_code")
    if name_col is None or "country" not in ctx.frame.columns:
        return
    names = ctx.frame.select(pl.col(name_col).alias("name")).drop_nulls().unique()
    table = {n: _country_name(n) for n in names["name"].to_list()}
    named = pl.col(name_col).replace_strict({k: v[0] for k, v in table.items()}, default=None, return_dtype=pl.String)
    region = pl.col(name_col).replace_strict({k: v[1] for k, v in table.items()}, default=False,
                                             return_dtype=pl.Boolean)
    ctx.flag(region, name_col, "country", "not-a-country", P.ONE_COUNTRY)
    ctx.flag(~region & named.is_not_null() & pl.col("country").is_not_null() & (named != pl.col("country")),
             name_col, "country", "country-mismatch", P.ISO_CODE_COUNTRY)
    if code_col is not None:
        ctx.flag(pl.col(code_col).is_null() & pl.col("country").is_not_null(), name_col, "country",
                 "country-from-name", P.ISO3_IN_COLUMN)
        # No code and a name that is no ISO country (Sark): say so on the name, which is what the row has.
        ctx.flag(pl.col(code_col).is_null() & pl.col("country").is_null() & ~region, name_col, "country",
                 "unknown-country", P.A_COUNTRY)


def _category(ctx: SourceContext) -> None:
    col = ctx.column("Category")
    frame = ctx.frame
    if col is None or "breakdown" not in frame.columns:
        return
    listed = listed_spellings()
    places = frame.filter(pl.col("breakdown").is_in(["citizenship", "repatriation_country"])).select(
        pl.col(col).alias("text"), pl.col("country").alias("reporting")).unique()
    resolved = [(t, r, *resolve_category(t, r, listed)) for t, r in places.iter_rows()]
    lookup = pl.DataFrame(resolved, schema={"text": pl.String, "reporting": pl.String, "__cat_country": pl.String,
                                            "__cat_status": pl.String, "__cat_how": pl.String}, orient="row")
    frame = frame.join(lookup, left_on=[col, "country"], right_on=["text", "reporting"], how="left",
                       nulls_equal=True, maintain_order="left")
    place = pl.col("breakdown").is_in(["citizenship", "repatriation_country"])
    form = pl.col("breakdown") == "exploitation_form"
    exploitation = pl.col(col).map_elements(lambda t: _EXPLOITATION.get(normalise_key(t)), return_dtype=pl.String,
                                            skip_nulls=True)
    frame = frame.with_columns(
        category_country=pl.when(place).then(pl.col("__cat_country")),
        category_status=pl.when(place).then(pl.col("__cat_status")),
        exploitation_form=pl.when(form).then(exploitation),
        __cat_read=pl.when(place).then(pl.col("__cat_how")),
    )
    ctx.frame = frame
    how = pl.col("__cat_read")
    status = pl.col("category_status")
    for code, bad, expected in (
        ("category-read-as", how == "demonym", P.DEMONYM),
        ("category-read-as", how == "decorated", P.DECORATED),
        ("category-read-as", how == "listed", P.LISTED),
        ("encoding-damage", how == "encoding", P.WILDCARD_MATCH),
        ("own-nationals", how == "nationals", ""),
        ("subtotal-category", status == "subtotal", ""),
        ("unmapped-category", place & (status == "unmapped"), P.COUNTRY),
        ("unmapped-category", form & pl.col("exploitation_form").is_null(), P.FORM_OF_EXPLOITATION),
    ):
        ctx.flag(bad, col, "category", code, expected)
    ctx.frame = ctx.frame.drop("__cat_country", "__cat_status", "__cat_how", "__cat_read")


def _implausible(ctx: SourceContext) -> None:
    value, col = ctx.column("txtVALUE"), ctx.column("Category")
    frame = ctx.frame
    if value is None or "value" not in frame.columns:
        return
    is_total = (pl.col("breakdown") == "total") & (pl.col("sex") == "total") & (pl.col("age_group") == "total")
    largest = pl.when(is_total).then(pl.col("value_upper")).max().over("country", "indicator")
    cell_reference = pl.col(col).str.contains(_CELL_REFERENCE) if col else pl.lit(False)
    bad = (cell_reference | (pl.col("value_upper") >= _MILLIONS)
           | (~is_total & (pl.col("value_upper") > _PLAUSIBLE_RATIO * largest)))
    ctx.flag(bad, value, "value", "implausible-value", P.IMPLAUSIBLE.format(ratio=_PLAUSIBLE_RATIO))
