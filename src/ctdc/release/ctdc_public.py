"""The `ctdc-public` export flavour: victim microdata in the layout of CTDC's k-anonymized global dataset.

NOTE: pure Python on polars; never import Django here. The layout is described in
`/work/shared/reference/ctdc-public-format.md` (docs: docs/releases.md). Until the standard's crosswalk writer
(`ctdc.standard.crosswalk`, branch `standard`) lands on main, this module holds the column mapping itself.

    <notice>;yearOfRegistration;Datasource;gender;ageBroad;...;recruiterRelationUnknown\\r\\n
    ;2019;Case Management;Female;18--20;Adult;Adult;;PH;1;0;...;0\\r\\n

- `;` delimiter, `"` quotes, CRLF, UTF-8. The first header cell is the terms-of-use notice, so every row
  starts with an empty field.
- Empty means "not recorded". Age bands with a double hyphen (`0--8`), never as dates.
- Flag groups (`meansOfControl*`, `is*` exploitation types, `typeOfLabour*`, `typeOfSex*`,
  `recruiterRelation*`): when the field was recorded, `1` for each code held and `0` for the others (the
  group's `NotSpecified` flag is `1` only for the code `not_specified`); when it was not recorded, every flag of
  the group is empty. Each group also has its `*Concatenated` text (names of the flags set, `;`-joined, in
  column order).
- What the layout cannot say is written as empty: a generalized year (`2015-2019`) or age (`adult`), a
  suppressed value (`*`; in a flag group every flag, and for a set holding `*` among its codes, the flags of
  the codes it does not show), gender `trans_nonconforming`, and the trafficking duration. Exploitation types
  `child_labour`, `forced_begging`, `servitude`, `forced_adoption` and `surrogacy` are folded into
  `isOtherExploit`, as CTDC does, and recruiter relation `stranger` into `recruiterRelationOther`.

>>> import polars as pl
>>> row = pl.DataFrame({"registration_year": ["2019"], "age_band": ["18-20"], "gender": ["female"],
...                     "recruiter_relations": ["friend;family"], "is_abduction": ["false"]})
>>> out = to_ctdc_public(row)
>>> out.select("yearOfRegistration", "ageBroad", "gender", "isAbduction", "RecruiterRelationship").row(0)
('2019', '18--20', 'Female', '0', 'Friend/Acquaintance; Family/Relative')
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from ctdc.formulas import defuse_frame

NOTICE = ("By using this data you agree to the Terms of Use: see TERMS.md in this release. "
          "Simulated or protected data, never to be used to identify anyone")

SOURCES = {"case_management": "Case Management", "hotline": "Hotline"}
GENDERS = {"female": "Female", "male": "Male"}
MAJORITY = {"minor": "Minor", "adult": "Adult"}
RELATIONS = {"intimate_partner": "Intimate Partner", "friend": "Friend/Acquaintance", "family": "Family/Relative",
             "other": "Other", "unknown": "Not Specified"}

# (field, column prefix, {code: column suffix}, has a NotSpecified flag, name of its Concatenated column)
GROUPS: tuple[tuple[str, str, dict[str, str], bool, str | None], ...] = (
    ("means_of_control", "meansOfControl", {
        "debt_bondage": "DebtBondage", "takes_earnings": "TakesEarnings",
        "restricts_financial_access": "RestrictsFinancialAccess", "threats": "Threats",
        "psychological_abuse": "PsychologicalAbuse", "physical_abuse": "PhysicalAbuse", "sexual_abuse": "SexualAbuse",
        "false_promises": "FalsePromises", "psychoactive_substances": "PsychoactiveSubstances",
        "restricts_movement": "RestrictsMovement", "restricts_medical_care": "RestrictsMedicalCare",
        "excessive_working_hours": "ExcessiveWorkingHours", "uses_children": "UsesChildren",
        "threat_of_law_enforcement": "ThreatOfLawEnforcement", "withholds_necessities": "WithholdsNecessities",
        "withholds_documents": "WithholdsDocuments", "other": "Other"}, True, "meansOfControlConcatenated"),
    ("exploitation_types", "is", {
        "forced_labour": "ForcedLabour", "sexual_exploitation": "SexualExploit", "other": "OtherExploit",
        "__sex_and_labour": "SexAndLabour", "forced_marriage": "ForcedMarriage", "forced_military": "ForcedMilitary",
        "organ_removal": "OrganRemoval", "slavery_and_practices": "SlaveryAndPractices"}, False,
     "typeOfExploitConcatenated"),
    ("labour_sectors", "typeOfLabour", {
        "agriculture": "Agriculture", "aquafarming": "Aquafarming", "begging": "Begging", "construction": "Construction",
        "domestic_work": "DomesticWork", "hospitality": "Hospitality", "illicit_activities": "IllicitActivities",
        "manufacturing": "Manufacturing", "mining_or_drilling": "MiningOrDrilling", "peddling": "Peddling",
        "transportation": "Transportation", "other": "Other"}, True, "typeOfLabourConcatenated"),
    ("sexual_exploitation_types", "typeOfSex", {
        "prostitution": "Prostitution", "pornography": "Pornography",
        "remote_interactive_services": "RemoteInteractiveServices",
        "private_sexual_services": "PrivateSexualServices"}, False, "typeOfSexConcatenated"),
    ("recruiter_relations", "recruiterRelation", {
        "intimate_partner": "IntimatePartner", "friend": "Friend", "family": "Family", "other": "Other",
        "unknown": "Unknown"}, False, None),
)
EXPLOIT_NAMES = {"ForcedLabour": "Forced labour", "SexualExploit": "Sexual exploitation", "OtherExploit": "Other",
                 "SexAndLabour": "Combined sexual and labour exploitation", "ForcedMarriage": "Forced marriage",
                 "ForcedMilitary": "Forced military", "OrganRemoval": "Organ removal",
                 "SlaveryAndPractices": "Slavery and similar practices"}
# Types the public layout has no flag for: CTDC counts them as "other" (HTCDS 2.0 and standard 0.2.0 types).
FOLDED_INTO_OTHER = ("child_labour", "forced_begging", "other", "servitude", "forced_adoption", "surrogacy")
# Recruiter relations without a flag of their own.
RELATION_FOLDED_INTO_OTHER = ("other", "stranger")


def _flag_names(group) -> list[str]:
    field, prefix, codes, not_specified, _ = group
    return [f"{prefix}{suffix}" for suffix in codes.values()] + ([f"{prefix}NotSpecified"] if not_specified else [])


def columns() -> list[str]:
    """The 63 variables of the k-anonymized layout, in file order (without the leading notice column)."""
    g = {grp[0]: grp for grp in GROUPS}
    return [
        "yearOfRegistration", "Datasource", "gender", "ageBroad", "majorityStatus", "majorityStatusAtExploit",
        "majorityEntry", "citizenship",
        *_flag_names(g["means_of_control"]), "meansOfControlConcatenated",
        *_flag_names(g["exploitation_types"]), "typeOfExploitConcatenated",
        *_flag_names(g["labour_sectors"]), "typeOfLabourConcatenated",
        *_flag_names(g["sexual_exploitation_types"]), "typeOfSexConcatenated",
        "isAbduction", "RecruiterRelationship", "CountryOfExploitation",
        *_flag_names(g["recruiter_relations"]),
    ]


def _words(camel: str) -> str:
    words = re.findall(r"[A-Z][a-z]*", camel)
    return " ".join([words[0], *(w.lower() for w in words[1:])])


def _col(frame: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name).cast(pl.String) if name in frame.columns else pl.lit(None, dtype=pl.String)


def to_ctdc_public(frame: pl.DataFrame) -> pl.DataFrame:
    """Release microdata (standard vocabulary, text values) as a frame of the layout's columns (no notice)."""
    year = _col(frame, "registration_year")
    band = _col(frame, "age_band")
    exprs: list[pl.Expr] = [
        pl.when(year.str.contains(r"^\d{4}$")).then(year).otherwise(None).alias("yearOfRegistration"),
        _col(frame, "data_source").replace_strict(SOURCES, default=None).alias("Datasource"),
        _col(frame, "gender").replace_strict(GENDERS, default=None).alias("gender"),
        pl.when(band.str.contains(r"^\d+(-\d+|\+)$")).then(band.str.replace("-", "--")).otherwise(None)
        .alias("ageBroad"),
        _col(frame, "majority_status").replace_strict(MAJORITY, default=None).alias("majorityStatus"),
        _col(frame, "majority_status_at_exploitation").replace_strict(MAJORITY, default=None)
        .alias("majorityStatusAtExploit"),
        _col(frame, "majority_status_at_entry").replace_strict(MAJORITY, default=None).alias("majorityEntry"),
        pl.when(_col(frame, "citizenship").str.contains(r"^[A-Z]{2}$")).then(_col(frame, "citizenship"))
        .otherwise(None).alias("citizenship"),
        pl.when(_col(frame, "country_of_exploitation").str.contains(r"^[A-Z]{2}$"))
        .then(_col(frame, "country_of_exploitation")).otherwise(None).alias("CountryOfExploitation"),
        _col(frame, "is_abduction").replace_strict({"true": "1", "false": "0"}, default=None).alias("isAbduction"),
    ]
    # Each multi-valued field is split once into a list column: dozens of flags test membership in it, and
    # an expression that splits again for every flag made this export take seconds on 250,000 rows.
    frame = frame.with_columns(_col(frame, field).str.split(";").alias(f"\x00parts_{field}")
                               for field, *_ in GROUPS)
    for field, prefix, codes, not_specified, concat in GROUPS:
        parts = pl.col(f"\x00parts_{field}")
        # A suppressed set (`*`) says nothing; a set holding `*` among its codes (k-anonymity suppressed some of
        # them) says which codes it holds but not which it lacks: its other flags are empty, never 0.
        recorded = _col(frame, field).is_not_null() & (_col(frame, field) != "*")
        unsure = parts.list.contains("*")
        names = []
        for code, suffix in codes.items():
            if code == "__sex_and_labour":
                held = parts.list.contains("forced_labour") & parts.list.contains("sexual_exploitation")
            elif field == "exploitation_types" and code == "other":
                held = pl.any_horizontal(parts.list.contains(c) for c in FOLDED_INTO_OTHER)
            elif field == "recruiter_relations" and code == "other":
                held = pl.any_horizontal(parts.list.contains(c) for c in RELATION_FOLDED_INTO_OTHER)
            else:
                held = parts.list.contains(code)
            name = f"{prefix}{suffix}"
            exprs.append(pl.when(recorded).then(pl.when(held).then(pl.lit("1"))
                                                .otherwise(pl.when(unsure).then(None).otherwise(pl.lit("0"))))
                         .otherwise(None).alias(name))
            label = EXPLOIT_NAMES[suffix] if field == "exploitation_types" else _words(suffix)
            names.append(pl.when(recorded & held).then(pl.lit(label)).otherwise(None))
        if not_specified:
            held = parts.list.contains("not_specified")
            exprs.append(pl.when(recorded).then(pl.when(held).then(pl.lit("1"))
                                                .otherwise(pl.when(unsure).then(None).otherwise(pl.lit("0"))))
                         .otherwise(None).alias(f"{prefix}NotSpecified"))
            names.append(pl.when(recorded & held).then(pl.lit("Not specified")).otherwise(None))
        if concat:
            joined = pl.concat_str(names, separator=";", ignore_nulls=True)
            exprs.append(pl.when(joined == "").then(None).otherwise(joined).alias(concat))
        if field == "recruiter_relations":
            rel = [pl.when(parts.list.contains(c)).then(pl.lit(t)).otherwise(None) for c, t in RELATIONS.items()]
            joined = pl.concat_str(rel, separator="; ", ignore_nulls=True)
            exprs.append(pl.when(joined == "").then(None).otherwise(joined).alias("RecruiterRelationship"))
    return frame.select(exprs).select(columns())


def write_ctdc_public(frame: pl.DataFrame, path: Path) -> None:
    """Write `frame` (release microdata) as a `ctdc-public` CSV: notice cell, leading empty field, `;`, CRLF."""
    out = to_ctdc_public(frame)
    out = defuse_frame(out.select(pl.lit(None, dtype=pl.String).alias(NOTICE), pl.all()))  # ctdc.formulas
    out.write_csv(path, separator=";", line_terminator="\r\n", quote_char='"', null_value="")
