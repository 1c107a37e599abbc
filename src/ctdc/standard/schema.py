"""Load the ctdc standard (dataset types, fields, code lists) from the YAML files shipped in this package.

Layout, all inside `ctdc/standard/`:

    standard.yaml            version and the list of dataset types
    datasets/<name>.yaml     one file per dataset type: its fields (see the header of datasets/victims.yaml)
    codelists/<name>.yaml    one file per code list: `codes: [{code, label, ...}]`

The `country` code list is not a file: it is built from ISO 3166-1 (pycountry) so it never drifts from the
standard it cites.

>>> std = load_standard()
>>> std.dataset("victims").field("gender").codelist.codes[:2]
('female', 'male')
>>> "PH" in std.codelist("country")
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

import pycountry
import yaml

from ctdc.errors import CodebookError

FieldType = Literal["integer", "string", "code", "codes", "boolean", "date"]
Role = Literal["direct_identifier", "quasi_identifier", "sensitive", "non_identifying"]
FIELD_TYPES: frozenset[str] = frozenset({"integer", "string", "code", "codes", "boolean", "date"})
ROLES: frozenset[str] = frozenset({"direct_identifier", "quasi_identifier", "sensitive", "non_identifying"})


@dataclass(frozen=True)
class Code:
    code: str
    label: str
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class CodeList:
    name: str
    label: str
    entries: tuple[Code, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(e.code for e in self.entries)

    def __contains__(self, code: object) -> bool:
        return code in self._index

    def label_of(self, code: str) -> str:
        return self._index[code].label

    @property
    def _index(self) -> dict[str, Code]:
        # Cached on the instance; frozen dataclasses need object.__setattr__.
        idx = self.__dict__.get("_idx")
        if idx is None:
            idx = {e.code: e for e in self.entries}
            object.__setattr__(self, "_idx", idx)
        return idx


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: FieldType
    role: Role
    description: str = ""
    codelist: CodeList | None = None
    required: bool = False
    hierarchy: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None

    @property
    def is_direct_identifier(self) -> bool:
        return self.role == "direct_identifier"


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str
    description: str
    privacy_unit: str
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise CodebookError(f"Dataset '{self.name}' has no field '{name}'.", {"dataset": self.name, "field": name})

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def direct_identifiers(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.is_direct_identifier)

    @property
    def stored_fields(self) -> tuple[Field, ...]:
        """Fields that may reach the harmonized store: everything but direct identifiers."""
        return tuple(f for f in self.fields if not f.is_direct_identifier)

    @property
    def quasi_identifiers(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.role == "quasi_identifier")


@dataclass(frozen=True)
class Standard:
    version: str
    datasets: dict[str, Dataset]
    codelists: dict[str, CodeList]

    def dataset(self, name: str) -> Dataset:
        try:
            return self.datasets[name]
        except KeyError:
            known = ", ".join(sorted(self.datasets))
            raise CodebookError(f"Unknown dataset type '{name}'. Known: {known}.", {"dataset": name}) from None

    def codelist(self, name: str) -> CodeList:
        try:
            return self.codelists[name]
        except KeyError:
            raise CodebookError(f"Unknown code list '{name}'.", {"codelist": name}) from None


def _read_yaml(relpath: str) -> Any:
    resource = resources.files("ctdc.standard").joinpath(relpath)
    try:
        return yaml.safe_load(resource.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CodebookError(f"Standard file missing: {relpath}", {"file": relpath}) from None
    except yaml.YAMLError as exc:
        raise CodebookError(f"Standard file {relpath} is not valid YAML: {exc}", {"file": relpath}) from None


def country_codelist() -> CodeList:
    """ISO 3166-1 alpha-2 from pycountry, plus XK (Kosovo), a user-assigned code in wide use."""
    entries = [Code(c.alpha_2, c.name, {"alpha_3": c.alpha_3}) for c in pycountry.countries]
    entries.append(Code("XK", "Kosovo", {"alpha_3": "XKX"}))
    return CodeList("country", "Country (ISO 3166-1 alpha-2)", tuple(sorted(entries, key=lambda e: e.code)))


def _codelist_from_yaml(data: dict[str, Any], relpath: str) -> CodeList:
    try:
        entries = tuple(
            Code(str(e["code"]), str(e["label"]), {k: v for k, v in e.items() if k not in ("code", "label")})
            for e in data["codes"]
        )
        return CodeList(str(data["name"]), str(data.get("label", data["name"])), entries)
    except (KeyError, TypeError) as exc:
        raise CodebookError(f"Code list {relpath} is malformed: missing {exc}", {"file": relpath}) from None


def _field_from_yaml(raw: dict[str, Any], codelists: dict[str, CodeList], dataset: str) -> Field:
    where = {"dataset": dataset, "field": raw.get("name")}
    if raw.get("type") not in FIELD_TYPES:
        raise CodebookError(f"Field {raw.get('name')!r} of {dataset} has unknown type {raw.get('type')!r}.", where)
    if raw.get("role") not in ROLES:
        raise CodebookError(f"Field {raw.get('name')!r} of {dataset} has unknown role {raw.get('role')!r}.", where)
    codelist = None
    if raw.get("codelist"):
        if raw["codelist"] not in codelists:
            raise CodebookError(f"Field {raw['name']!r} of {dataset} names unknown code list {raw['codelist']!r}.", where)
        codelist = codelists[raw["codelist"]]
    elif raw["type"] in ("code", "codes"):
        raise CodebookError(f"Field {raw['name']!r} of {dataset} is coded but names no code list.", where)
    return Field(
        name=raw["name"],
        label=raw.get("label", raw["name"]),
        type=raw["type"],
        role=raw["role"],
        description=raw.get("description", ""),
        codelist=codelist,
        required=bool(raw.get("required", False)),
        hierarchy=tuple(raw.get("hierarchy", ())),
        min=raw.get("min"),
        max=raw.get("max"),
    )


@cache
def load_standard() -> Standard:
    """Read and check every data file of the standard once per process."""
    meta = _read_yaml("standard.yaml")
    codelists: dict[str, CodeList] = {"country": country_codelist()}
    for entry in sorted(resources.files("ctdc.standard").joinpath("codelists").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            rel = f"codelists/{entry.name}"
            cl = _codelist_from_yaml(_read_yaml(rel), rel)
            codelists[cl.name] = cl
    datasets: dict[str, Dataset] = {}
    for name in meta["datasets"]:
        raw = _read_yaml(f"datasets/{name}.yaml")
        fields = tuple(_field_from_yaml(f, codelists, name) for f in raw["fields"])
        datasets[name] = Dataset(
            name=raw["name"],
            label=raw.get("label", name),
            description=raw.get("description", ""),
            privacy_unit=raw.get("privacy_unit", "one row"),
            fields=fields,
        )
    return Standard(version=str(meta["version"]), datasets=datasets, codelists=codelists)
