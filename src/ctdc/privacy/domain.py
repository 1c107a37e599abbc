"""Public domains: the list of values each column may take, and where that list came from.

NOTE: pure Python; no Django.

Differential privacy protects a victim only if everything the mechanism does *besides* adding noise is the
same whether or not the victim is in the data. The candidates of the DP counts are such a thing: if a
column's list of values is read off the data, a value held by one victim becomes a candidate only when that
victim is present, and its mere appearance in the release gives them away (neighbour experiment of issue 13:
released in 0 of 200 runs without the victim, 50 of 200 with). A `Domain` is therefore built from public
information only:

- the standard's code lists (`Domain.from_standard`): ISO 3166-1 countries, every coded field, `false`/`true`
  for booleans, and `1` for the flag columns a multi-valued field is spread into (a flag is `1` or missing);
- integer ranges declared for the release (e.g. registration years 2010-2025), or else the bounds the standard
  gives the field (registration_year: 2000-2030);
- a domain file the data steward writes for a bare table (`Domain.from_file`, `ctdc synth --domain`).

A column with no public domain (free text, dates, an integer without bounds) is refused with `NoPublicDomain`.

`Domain.observed` records the other case, a domain read off the data: it is marked not public and every
report says so, since the DP guarantee then holds only if the set of values is itself public.

Values outside the domain become missing when the table is encoded (`encode_table(df, domain=...)`), and
their number per column goes to the steward's report, never to the public one. Turning a value into missing is
a function of the record alone, so adding or removing a victim still changes one row, and the guarantee
holds; refusing the release instead would make publication depend on one victim's value (issue 13, finding 5).

>>> from ctdc.standard import load_standard
>>> d = Domain.from_standard(load_standard().dataset("victims"),
...                          ["gender", "citizenship", "is_abduction", "exploitation_types__sexual_exploitation",
...                           "registration_year"], ranges={"registration_year": (2015, 2024)})
>>> d["gender"].values, len(d["citizenship"].values), d["is_abduction"].values
(('female', 'male', 'trans_nonconforming'), 250, ('false', 'true'))
>>> d["exploitation_types__sexual_exploitation"].values, d["registration_year"].values[:2], d.public
(('1',), ('2015', '2016'), True)
>>> d["registration_year"].source
'range declared for the release: 2015-2024'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctdc.errors import InvalidDomain, NoPublicDomain

FLAG_VALUE = "1"
FLAG_SEP = "__"
# Integer ranges wider than this are not a usable domain (each value would be a candidate of its own).
MAX_RANGE = 500
OBSERVED_SOURCE = "observed in the input (treated as public: not a formal guarantee)"


@dataclass(frozen=True)
class ColumnDomain:
    """The values a column may take (as text, in release order) and where the list came from."""

    values: tuple[str, ...]
    source: str
    public: bool = True


@dataclass(frozen=True, eq=False)
class Domain:
    """Column name -> `ColumnDomain`. Public when every column's list came from public information."""

    columns: Mapping[str, ColumnDomain]

    def __getitem__(self, column: str) -> ColumnDomain:
        return self.columns[column]

    def __contains__(self, column: object) -> bool:
        return column in self.columns

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.columns)

    @property
    def public(self) -> bool:
        return all(c.public for c in self.columns.values())

    def require(self, columns: Iterable[str]) -> None:
        """Raise `NoPublicDomain` naming every column of `columns` that has no domain here."""
        missing = [c for c in columns if c not in self.columns]
        if missing:
            raise NoPublicDomain(
                f"No public list of values for column(s) {', '.join(missing)}: a DP release may only use values"
                " known without looking at the data (a code list of the standard, a declared range, or a domain"
                " file). Declare them, or leave the column(s) out.",
                {"columns": missing},
            )

    def restrict(self, columns: Sequence[str]) -> Domain:
        """The domain of `columns` only (each must be present)."""
        self.require(columns)
        return Domain({c: self.columns[c] for c in columns})

    def describe(self) -> dict[str, str]:
        """Column -> `source (n values)`, for reports.

        >>> Domain({"a": ColumnDomain(("x", "y"), "domain file d.yaml")}).describe()
        {'a': 'domain file d.yaml (2 values)'}
        """
        return {name: f"{c.source} ({len(c.values)} values)" for name, c in self.columns.items()}

    # --- builders ---------------------------------------------------------------------------------------------

    @classmethod
    def observed(cls, categories: Mapping[str, Sequence[str]]) -> Domain:
        """A domain read off the data (not public): what `encode_table` records when given none."""
        return cls({c: ColumnDomain(tuple(v), OBSERVED_SOURCE, public=False) for c, v in categories.items()})

    @classmethod
    def from_standard(
        cls, ds: Any, columns: Sequence[str], *, ranges: Mapping[str, tuple[int, int]] | None = None,
    ) -> Domain:
        """The public domain of `columns` of dataset type `ds` (a `ctdc.standard.Dataset`) from its code lists.

        Columns: fields of `ds`, and `<field>__<code>` flag columns of its multi-valued fields (values `1` or
        missing). `ranges` declares integer ranges for the release (e.g. registration years); integer fields
        without one use the standard's own bounds. Raises `NoPublicDomain` for any other column.
        """
        ranges = dict(ranges or {})
        out: dict[str, ColumnDomain] = {}
        refused: list[str] = []
        for name in columns:
            dom = _standard_column(ds, name, ranges.get(name))
            if dom is None:
                refused.append(name)
            else:
                out[name] = dom
        if refused:
            raise NoPublicDomain(
                f"Column(s) {', '.join(refused)} of dataset '{ds.name}' have no public list of values in the"
                " standard (free text, dates, unbounded numbers); they cannot be released with differential"
                " privacy.",
                {"dataset": ds.name, "columns": refused},
            )
        return cls(out)

    @classmethod
    def from_mapping(cls, data: Any, origin: str = "domain file") -> Domain:
        """A domain from the parsed content of a domain file (see `from_file` for the format)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("columns"), Mapping) or not data["columns"]:
            raise InvalidDomain(
                f"{origin}: expected a mapping with a non-empty 'columns' mapping (column -> values).",
                {"file": origin},
            )
        out = {}
        for name, spec in data["columns"].items():
            out[str(name)] = _column_from_spec(str(name), spec, origin)
        return cls(out)

    @classmethod
    def from_file(cls, path: str | Path) -> Domain:
        """Read a domain file (YAML or JSON). Format (docs/privacy.md, "Domain files"):

            columns:
              gender: [female, male, transgender]        # the values, as they are written in the data
              citizenship: {codelist: country}          # a code list of the standard
              registration_year: {range: [2010, 2025]}  # integers, both ends included
              is_abduction: {values: ["0", "1"], source: "0/1 flag"}

        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "d.json")
        >>> _ = open(p, "w").write('{"columns": {"a": ["x", "y"], "y": {"range": [2020, 2022]}}}')
        >>> d = Domain.from_file(p)
        >>> d["a"].values, d["y"].values, d["y"].source
        (('x', 'y'), ('2020', '2021', '2022'), 'd.json: range 2020-2022')
        """
        path = Path(path)
        if not path.is_file():
            raise InvalidDomain(f"Domain file not found: {path}.", {"file": str(path)})
        text = path.read_text(encoding="utf-8")
        try:
            if path.suffix.lower() == ".json":
                data = json.loads(text)
            else:
                import yaml

                data = yaml.safe_load(text)
        except (ValueError, ImportError) as exc:
            raise InvalidDomain(f"Cannot read domain file {path.name}: {exc}", {"file": str(path)}) from None
        except Exception as exc:  # yaml.YAMLError and its subclasses
            raise InvalidDomain(f"Cannot read domain file {path.name}: {exc}", {"file": str(path)}) from None
        return cls.from_mapping(data, origin=path.name)


def _int_range(name: str, lo: Any, hi: Any, origin: str) -> tuple[str, ...]:
    try:
        a, b = int(lo), int(hi)
    except (TypeError, ValueError):
        raise InvalidDomain(f"{origin}: range of {name!r} needs two integers.", {"column": name}) from None
    if b < a or b - a + 1 > MAX_RANGE:
        raise InvalidDomain(
            f"{origin}: range {a}-{b} of {name!r} must be increasing and hold at most {MAX_RANGE} values.",
            {"column": name, "range": [a, b]},
        )
    return tuple(str(v) for v in range(a, b + 1))


def _column_from_spec(name: str, spec: Any, origin: str) -> ColumnDomain:
    if isinstance(spec, list):
        spec = {"values": spec}
    if not isinstance(spec, Mapping):
        raise InvalidDomain(
            f"{origin}: column {name!r} needs a list of values, {{codelist: NAME}} or {{range: [FROM, TO]}}.",
            {"column": name},
        )
    source = spec.get("source")
    if "values" in spec:
        values = tuple(str(v).strip() for v in spec["values"] if v is not None and str(v).strip() != "")
        default = f"{origin}: listed values"
    elif "codelist" in spec:
        from ctdc.standard import load_standard

        lists = load_standard().codelists
        if spec["codelist"] not in lists:
            raise InvalidDomain(
                f"{origin}: column {name!r} names code list {spec['codelist']!r}, which the standard does not"
                f" have. Known: {', '.join(sorted(lists))}.",
                {"column": name, "codelist": spec["codelist"]},
            )
        values = lists[spec["codelist"]].codes
        default = f"{origin}: code list '{spec['codelist']}' of the standard"
    elif "range" in spec and isinstance(spec["range"], list) and len(spec["range"]) == 2:
        values = _int_range(name, *spec["range"], origin)
        default = f"{origin}: range {values[0]}-{values[-1]}"
    else:
        raise InvalidDomain(
            f"{origin}: column {name!r} needs 'values', 'codelist' or 'range: [FROM, TO]'.", {"column": name}
        )
    if not values or len(set(values)) != len(values):
        raise InvalidDomain(
            f"{origin}: the values of column {name!r} must be non-empty and distinct.", {"column": name}
        )
    return ColumnDomain(values, str(source) if source else default)


def _standard_column(ds: Any, name: str, declared: tuple[int, int] | None) -> ColumnDomain | None:
    if name not in ds and FLAG_SEP in name:
        base, code = name.split(FLAG_SEP, 1)
        if base in ds and ds.field(base).type == "codes" and code in ds.field(base).codelist:
            cl = ds.field(base).codelist.name
            return ColumnDomain((FLAG_VALUE,), f"flag of code '{code}' in code list '{cl}': 1 or missing")
        return None
    if name not in ds:
        return None
    f = ds.field(name)
    if f.role == "direct_identifier":
        return None
    if f.type == "code" and f.codelist is not None:
        return ColumnDomain(f.codelist.codes, f"code list '{f.codelist.name}' of the standard")
    if f.type == "boolean":
        return ColumnDomain(("false", "true"), "boolean field of the standard")
    if f.type == "integer":
        if declared is not None:
            values = _int_range(name, *declared, "release")
            return ColumnDomain(values, f"range declared for the release: {values[0]}-{values[-1]}")
        if f.min is not None and f.max is not None and int(f.max) - int(f.min) + 1 <= MAX_RANGE:
            values = tuple(str(v) for v in range(int(f.min), int(f.max) + 1))
            return ColumnDomain(values, f"bounds of the field in the standard: {values[0]}-{values[-1]}")
    return None
