"""Rebuild `codelists/un_m49.csv`, the UN M49 geographic regions of every ISO 3166-1 country.

Run by hand when UNSD revises M49 (rare); the output is committed and reviewed like any other data change:

    uv pip install country_converter   # only for this script, not a ctdc dependency
    python -m ctdc.standard.sources.build_un_m49 > src/ctdc/standard/codelists/un_m49.csv

Source of truth: UN Statistics Division, "Standard country or area codes for statistical use (M49)",
https://unstats.un.org/unsd/methodology/m49/. The country -> (intermediate) region assignment is read from
country_converter's `country_data.tsv` (column `UNregion`, GPL-3.0), which transcribes that table; the
intermediate-region -> sub-region -> region tree and the area codes below are M49's own.

Output columns: alpha_2, m49, intermediate_region_code, intermediate_region, subregion_code, subregion,
region_code, region. Antarctica (010) belongs to no M49 region, so its region columns are empty.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

# M49 regions (5) and sub-regions (17).
REGIONS: dict[str, str] = {
    "002": "Africa",
    "019": "Americas",
    "142": "Asia",
    "150": "Europe",
    "009": "Oceania",
}
SUBREGIONS: dict[str, tuple[str, str]] = {  # name -> (code, region code)
    "Northern Africa": ("015", "002"),
    "Sub-Saharan Africa": ("202", "002"),
    "Latin America and the Caribbean": ("419", "019"),
    "Northern America": ("021", "019"),
    "Central Asia": ("143", "142"),
    "Eastern Asia": ("030", "142"),
    "South-eastern Asia": ("035", "142"),
    "Southern Asia": ("034", "142"),
    "Western Asia": ("145", "142"),
    "Eastern Europe": ("151", "150"),
    "Northern Europe": ("154", "150"),
    "Southern Europe": ("039", "150"),
    "Western Europe": ("155", "150"),
    "Australia and New Zealand": ("053", "009"),
    "Melanesia": ("054", "009"),
    "Micronesia": ("057", "009"),
    "Polynesia": ("061", "009"),
}
# M49 intermediate regions: name -> (code, sub-region name).
INTERMEDIATE: dict[str, tuple[str, str]] = {
    "Eastern Africa": ("014", "Sub-Saharan Africa"),
    "Middle Africa": ("017", "Sub-Saharan Africa"),
    "Southern Africa": ("018", "Sub-Saharan Africa"),
    "Western Africa": ("011", "Sub-Saharan Africa"),
    "Caribbean": ("029", "Latin America and the Caribbean"),
    "Central America": ("013", "Latin America and the Caribbean"),
    "South America": ("005", "Latin America and the Caribbean"),
}
COLUMNS = [
    "alpha_2",
    "m49",
    "intermediate_region_code",
    "intermediate_region",
    "subregion_code",
    "subregion",
    "region_code",
    "region",
]


def rows() -> list[dict[str, str]]:
    """One row per pycountry country plus Kosovo, sorted by alpha-2."""
    import country_converter  # noqa: PLC0415 - build-time only
    import pycountry

    path = Path(country_converter.__file__).with_name("country_data.tsv")
    with open(path, encoding="utf-8") as fh:
        coco = {r["ISO3"]: r for r in csv.DictReader(fh, delimiter="\t")}
    out = []
    wanted = [(c.alpha_2, c.alpha_3, c.numeric) for c in pycountry.countries] + [("XK", "XKX", "")]
    for alpha_2, alpha_3, numeric in wanted:
        un = coco[alpha_3]["UNregion"]
        row = dict.fromkeys(COLUMNS, "")
        row.update(alpha_2=alpha_2, m49=numeric)
        if un in INTERMEDIATE:
            row["intermediate_region_code"], sub = INTERMEDIATE[un]
            row["intermediate_region"] = un
        else:
            sub = un
        if sub in SUBREGIONS:
            code, region = SUBREGIONS[sub]
            row.update(subregion_code=code, subregion=sub, region_code=region, region=REGIONS[region])
        elif un != "Antarctica":
            raise SystemExit(f"{alpha_2}: unknown UN region {un!r}")
        out.append(row)
    return sorted(out, key=lambda r: r["alpha_2"])


def main() -> None:
    writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows())


if __name__ == "__main__":
    main()
