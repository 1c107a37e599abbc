"""Load the ctdc standard (dataset types, fields, code lists, crosswalks) from the files shipped in this package.

Layout, all inside `ctdc/standard/`:

    standard.yaml              version, languages and the list of dataset types
    CHANGELOG.md               what each version of the standard changed
    datasets/<name>.yaml       one file per dataset type: its fields (see the header of datasets/victims.yaml)
    codelists/<name>.yaml      one file per code list: `codes: [{code, label, fr, es, ...}]`
    codelists/un_m49.csv       UN M49 regions of every country (made by sources/build_un_m49.py)
    translations/<lang>.yaml   French and Spanish descriptions of every dataset type and field
    crosswalks/htcds-2.0.yaml  HTCDS 2.0 field -> ctdc field(s), and the HTCDS fields deliberately not kept
    crosswalks/ctdc-public-*.yaml  the public CTDC file layouts, column by column (the victim-perpetrator one is
                               an export layout built from several dataset types)
    schemas/*.schema.json      JSON Schemas every YAML file above is checked against on loading
    history/<version>.json     a frozen snapshot of each released version (see versioning.py)

The `country` and `currency` code lists are not files: they are built from ISO 3166-1 and ISO 4217 (pycountry)
so they never drift from the standards they cite (see builtin.py).

>>> std = load_standard()
>>> std.dataset("victims").field("gender").codelist.codes[:2]
('female', 'male')
>>> "PH" in std.codelist("country")
True
>>> std.dataset("victims").field("gender").sources["htcds-2.0"]
('prs_Gender',)
>>> std.codelist("exploitation_type").label_of("forced_labour", "es")
'Trabajo forzoso'
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import yaml

from ctdc.errors import CodebookError
from ctdc.standard.builtin import country_codelist, currency_codelist
from ctdc.standard.model import (
    FIELD_TYPES,
    LANGUAGES,
    ROLES,
    Code,
    CodeList,
    Dataset,
    Field,
    FieldType,
    Role,
    Standard,
)

__all__ = [
    "FIELD_TYPES",
    "HIERARCHY_LEVELS",
    "ROLES",
    "Code",
    "CodeList",
    "Dataset",
    "Field",
    "FieldType",
    "Role",
    "Standard",
    "country_codelist",
    "currency_codelist",
    "load_standard",
    "read_data_file",
    "validate_file",
]

# Generalization levels a field's `hierarchy` may name (finest first); ctdc.standard.hierarchies maps between them.
HIERARCHY_LEVELS: frozenset[str] = frozenset(
    {
        "age",
        "age_band",
        "perpetrator_age_band",
        "majority_status",
        "country",
        "subregion",
        "ctdc_region",
        "region",
        "date",
        "month",
        "year",
        "period",
        "gender",
    }
)
LAYOUT_CROSSWALKS = ("ctdc-public-k-anonymized", "ctdc-public-synthetic")
EXPORT_LAYOUTS = ("ctdc-public-victim-perpetrator",)
FIELD_CROSSWALKS = ("htcds-2.0",)
_SCHEMA_OF = {
    "standard.yaml": "standard",
    "datasets/": "dataset",
    "codelists/": "codelist",
    "crosswalks/htcds": "crosswalk-fields",
    "crosswalks/ctdc-public-victim-perpetrator": "crosswalk-condensed",
    "crosswalks/ctdc-public": "crosswalk-columns",
    "translations/": "translations",
}


def read_data_file(relpath: str) -> Any:
    """Parse one YAML file of the standard (path relative to `ctdc/standard/`)."""
    resource = resources.files("ctdc.standard").joinpath(relpath)
    try:
        # libyaml's parser when PyYAML has it (it does in our wheels): the standard's 44 files are read by every
        # command, and the pure-Python parser made that 2 s of CPU on each `ctdc ingest` (issue 14).
        return yaml.load(resource.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        raise CodebookError(f"Standard file missing: {relpath}", {"file": relpath}) from None
    except yaml.YAMLError as exc:
        raise CodebookError(f"Standard file {relpath} is not valid YAML: {exc}", {"file": relpath}) from None


@cache
def _json_schema(name: str) -> dict[str, Any]:
    text = (
        resources.files("ctdc.standard").joinpath(f"schemas/{name}.schema.json").read_text(encoding="utf-8")
    )
    return json.loads(text)


def schema_name_for(relpath: str) -> str:
    """Which JSON Schema (in schemas/) checks the YAML file at `relpath`."""
    for prefix, name in _SCHEMA_OF.items():
        if relpath.startswith(prefix):
            return name
    raise CodebookError(f"No JSON Schema is defined for {relpath}.", {"file": relpath})


def validate_file(relpath: str, data: Any) -> list[str]:
    """Check parsed YAML against its JSON Schema; return one line per problem (empty when valid)."""
    validator = jsonschema.Draft202012Validator(_json_schema(schema_name_for(relpath)))
    return [
        f"{relpath}: /{'/'.join(str(p) for p in err.absolute_path)}: {err.message}"
        for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    ]


def _checked(relpath: str) -> Any:
    data = read_data_file(relpath)
    problems = validate_file(relpath, data)
    if problems:
        raise CodebookError(
            f"{len(problems)} problem(s) in {relpath}; first: {problems[0]}",
            {"file": relpath, "problems": problems},
        )
    return data


def _codelist_from_yaml(data: dict[str, Any]) -> CodeList:
    entries = []
    for e in data["codes"]:
        extra = {k: v for k, v in e.items() if k not in ("code", "label", "fr", "es", "since")}
        labels = {"en": str(e["label"]), "fr": str(e["fr"]), "es": str(e["es"])}
        entries.append(Code(str(e["code"]), str(e["label"]), extra, labels, str(e.get("since", "0.1.0"))))
    labels = {"en": data["label"], "fr": data["fr"], "es": data["es"]}
    return CodeList(str(data["name"]), str(data["label"]), tuple(entries), labels)


def _translations() -> dict[str, dict[str, Any]]:
    """lang -> dataset -> {description, fields: {field: description}} for every language but English."""
    return {lang: _checked(f"translations/{lang}.yaml")["datasets"] for lang in LANGUAGES if lang != "en"}


def _field_from_yaml(
    raw: dict[str, Any],
    codelists: dict[str, CodeList],
    dataset: str,
    sources: dict[str, tuple[str, ...]],
    descriptions: dict[str, str] | None = None,
) -> Field:
    where = {"dataset": dataset, "field": raw["name"]}
    codelist = None
    if raw.get("codelist"):
        if raw["codelist"] not in codelists:
            raise CodebookError(
                f"Field {raw['name']!r} of {dataset} names unknown code list {raw['codelist']!r}.", where
            )
        codelist = codelists[raw["codelist"]]
    return Field(
        name=raw["name"],
        label=raw["label"],
        type=raw["type"],
        role=raw["role"],
        description=" ".join(raw["description"].split()),
        descriptions={"en": " ".join(raw["description"].split()), **(descriptions or {})},
        codelist=codelist,
        required=bool(raw.get("required", False)),
        hierarchy=tuple(raw.get("hierarchy", ())),
        min=raw.get("min"),
        max=raw.get("max"),
        labels={"en": raw["label"], "fr": raw["fr"], "es": raw["es"]},
        unit=raw.get("unit", ""),
        key=bool(raw.get("key", False)),
        references=raw.get("references", ""),
        since=str(raw.get("since", "0.1.0")),
        sources=sources,
    )


def _source_index() -> dict[tuple[str, str], dict[str, tuple[str, ...]]]:
    """(dataset, field) -> {crosswalk name: source fields/columns}, read from the crosswalk files."""
    index: dict[tuple[str, str], dict[str, list[str]]] = {}
    for name in FIELD_CROSSWALKS:
        for m in _checked(f"crosswalks/{name}.yaml")["mapped"]:
            for target in m["targets"]:
                ds, fld = target.split(".", 1)
                index.setdefault((ds, fld), {}).setdefault(name, []).append(m["source"])
    for name in LAYOUT_CROSSWALKS:
        data = _checked(f"crosswalks/{name}.yaml")
        for col in data["columns"]:
            entry = index.setdefault((data["dataset"], col["field"]), {}).setdefault(name, [])
            entry.append(col["column"])
    for name in EXPORT_LAYOUTS:
        for col in _checked(f"crosswalks/{name}.yaml")["columns"]:
            ds, fld = col["source"].split(".", 1)
            index.setdefault((ds, fld), {}).setdefault(name, []).append(col["column"])
    return {k: {n: tuple(v) for n, v in d.items()} for k, d in index.items()}


def _check_links(datasets: dict[str, Dataset], sources: dict[tuple[str, str], Any]) -> None:
    """Cross-file consistency the JSON Schemas cannot express."""
    for ds in datasets.values():
        if len(set(ds.field_names)) != len(ds.field_names):
            raise CodebookError(f"Dataset {ds.name} repeats a field name.", {"dataset": ds.name})
        for f in ds.fields:
            where = {"dataset": ds.name, "field": f.name}
            bad = [lvl for lvl in f.hierarchy if lvl not in HIERARCHY_LEVELS]
            if bad:
                raise CodebookError(f"{ds.name}.{f.name} names unknown hierarchy level(s) {bad}.", where)
            if f.references:
                target_ds, target_field = f.references.split(".", 1)
                if target_ds not in datasets or datasets[target_ds].key != target_field:
                    raise CodebookError(
                        f"{ds.name}.{f.name} references {f.references}, which is not a key.", where
                    )
    for ds_name, field_name in sources:
        if ds_name not in datasets or field_name not in datasets[ds_name].field_names:
            raise CodebookError(
                f"A crosswalk targets {ds_name}.{field_name}, which the standard does not define.",
                {"dataset": ds_name, "field": field_name},
            )


@cache
def load_standard() -> Standard:
    """Read and check every data file of the standard once per process."""
    meta = _checked("standard.yaml")
    codelists: dict[str, CodeList] = {"country": country_codelist(), "currency": currency_codelist()}
    for entry in sorted(
        resources.files("ctdc.standard").joinpath("codelists").iterdir(), key=lambda p: p.name
    ):
        if entry.name.endswith(".yaml"):
            cl = _codelist_from_yaml(_checked(f"codelists/{entry.name}"))
            if f"{cl.name}.yaml" != entry.name:
                raise CodebookError(
                    f"Code list file {entry.name} declares name {cl.name!r}.", {"file": entry.name}
                )
            codelists[cl.name] = cl
    sources = _source_index()
    translations = _translations()
    datasets: dict[str, Dataset] = {}
    for name in meta["datasets"]:
        raw = _checked(f"datasets/{name}.yaml")
        tr = {lang: t.get(name, {"description": "", "fields": {}}) for lang, t in translations.items()}
        fields = tuple(
            _field_from_yaml(
                f,
                codelists,
                name,
                sources.get((name, f["name"]), {}),
                {lang: t["fields"][f["name"]] for lang, t in tr.items() if f["name"] in t["fields"]},
            )
            for f in raw["fields"]
        )
        datasets[name] = Dataset(
            name=raw["name"],
            label=raw["label"],
            description=" ".join(raw["description"].split()),
            privacy_unit=raw["privacy_unit"],
            fields=fields,
            labels={"en": raw["label"], "fr": raw["fr"], "es": raw["es"]},
            since=str(raw.get("since", "0.1.0")),
            descriptions={
                "en": " ".join(raw["description"].split()),
                **{lang: t["description"] for lang, t in tr.items() if t["description"]},
            },
        )
    for lang, t in translations.items():
        for ds_name, entry in t.items():
            unknown = [f for f in entry["fields"] if ds_name not in datasets or f not in datasets[ds_name]]
            if ds_name not in datasets or unknown:
                raise CodebookError(
                    f"translations/{lang}.yaml describes {ds_name}.{(unknown or ['*'])[0]}, which the standard lacks.",
                    {"file": f"translations/{lang}.yaml", "dataset": ds_name},
                )
    _check_links(datasets, sources)
    return Standard(
        version=str(meta["version"]),
        datasets=datasets,
        codelists=codelists,
        languages=tuple(meta["languages"]),
    )
