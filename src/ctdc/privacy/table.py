"""Categorical encoding of a table: the one representation every mechanism in `ctdc.privacy` works on.

NOTE: `ctdc.privacy` is pure numpy/polars; it never imports Django (a test checks it).

Every column is treated as categorical: its values are cast to text, empty strings and nulls are *missing*.
A table becomes an `(n, p)` int32 matrix of codes, `-1` meaning missing, plus the sorted list of observed
values of each column. Missing is not an attribute value: a combination that includes a missing cell is never
counted (as in Synthetic Data Showcase, where blanks are absent attributes).

Every encoded table carries its `Domain` (`ctdc.privacy.domain`): the categories of each column and where they
came from. Pass `domain=` (built from the standard's code lists, a declared range or a domain file) for anything
differentially private: values outside it become missing and are counted per column (`outside_domain`, for
the steward). Without it the categories are read off the data, and the domain says so (`domain.public` is
False): that treats the set of values of each column as public, which a DP release may not assume.

>>> import polars as pl
>>> t = encode_table(pl.DataFrame({"a": ["x", "y", None], "b": [1, 1, 2]}))
>>> t.codes.tolist()
[[0, 0], [1, 0], [-1, 1]]
>>> t.categories
(('x', 'y'), ('1', '2'))
>>> t.decode(t.codes).rows()
[('x', 1), ('y', 1), (None, 2)]
>>> t.domain.public
False
>>> from ctdc.privacy.domain import ColumnDomain, Domain
>>> d = Domain({"a": ColumnDomain(("x", "z"), "listed"), "b": ColumnDomain(("1", "2", "3"), "listed")})
>>> t = encode_table(pl.DataFrame({"a": ["x", "y", None], "b": [1, 1, 2]}), domain=d)
>>> t.categories, t.codes[:, 0].tolist(), t.outside_domain, t.domain.public
((('x', 'z'), ('1', '2', '3')), [0, -1, -1], (1, 0), True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from ctdc.errors import EmptyData, PrivacyError
from ctdc.privacy.domain import ColumnDomain, Domain

MISSING = -1


@dataclass(frozen=True, eq=False)
class EncodedTable:
    """A table as int32 codes (`-1` = missing) with each column's categories and original dtype.

    `domain`: where each column's categories came from (None: not recorded, treated as observed);
    `outside_domain`: per column, the non-missing input cells whose value was not in the domain (now missing).
    Both describe the input; `outside_domain` is for the steward only.
    """

    columns: tuple[str, ...]
    categories: tuple[tuple[str, ...], ...]
    codes: np.ndarray
    dtypes: tuple[pl.DataType, ...]
    domain: Domain | None = None
    outside_domain: tuple[int, ...] = ()

    @property
    def n(self) -> int:
        return int(self.codes.shape[0])

    @property
    def p(self) -> int:
        return len(self.columns)

    @property
    def cardinalities(self) -> np.ndarray:
        return np.array([len(c) for c in self.categories], dtype=np.int64)

    def index_of(self, column: str) -> int:
        try:
            return self.columns.index(column)
        except ValueError:
            raise PrivacyError(f"Column {column!r} is not in the table.", {"column": column}) from None

    def with_codes(self, codes: np.ndarray) -> EncodedTable:
        """The same schema and categories over other rows (synthetic or recoded)."""
        return EncodedTable(
            self.columns, self.categories, np.ascontiguousarray(codes, dtype=np.int32), self.dtypes, self.domain
        )

    @property
    def public_domain(self) -> bool:
        """True when every column's categories came from public information (never from the data)."""
        return self.domain is not None and self.domain.public

    def decode(self, codes: np.ndarray | None = None) -> pl.DataFrame:
        """Turn codes back into a polars frame with the input's column names and dtypes."""
        codes = self.codes if codes is None else codes
        out = {}
        for j, (name, cats, dtype) in enumerate(zip(self.columns, self.categories, self.dtypes, strict=True)):
            lookup = np.array([*cats, None], dtype=object)
            col = pl.Series(name, lookup[codes[:, j]].tolist(), dtype=pl.String)
            out[name] = _cast_back(col, dtype)
        return pl.DataFrame(out)


def _cast_back(col: pl.Series, dtype: pl.DataType) -> pl.Series:
    """Cast a text column back to the input dtype; booleans need an explicit mapping."""
    if dtype == pl.String:
        return col
    if dtype == pl.Boolean:
        return col.replace_strict({"true": True, "false": False}, default=None, return_dtype=pl.Boolean)
    return col.cast(dtype, strict=False)


def encode_table(
    df: pl.DataFrame,
    columns: Sequence[str] | None = None,
    categories: Mapping[str, Sequence[str]] | None = None,
    domain: Domain | None = None,
) -> EncodedTable:
    """Encode `df` (all columns, or `columns`) as categorical codes.

    `domain` gives every column's categories (`NoPublicDomain` if a column has none); `categories` fixes those
    of some columns (the caller vouches that they are public), the others are then read off the data and marked
    observed. Values outside the given categories become missing and are counted in `outside_domain`.
    Raises `EmptyData` for a table without rows or columns.

    >>> encode_table(pl.DataFrame({"a": [True, False]})).decode().rows()
    [(True,), (False,)]
    """
    columns = tuple(df.columns if columns is None else columns)
    if df.height == 0 or not columns:
        raise EmptyData(
            "The table has no records to protect (0 rows or no columns); nothing can be released.",
            {"rows": df.height, "columns": len(columns)},
        )
    missing_cols = [c for c in columns if c not in df.columns]
    if missing_cols:
        raise PrivacyError(f"Columns not in the table: {', '.join(missing_cols)}.", {"columns": missing_cols})
    if domain is not None and categories:
        raise PrivacyError("Pass a domain or categories, not both.", {"columns": list(categories)})
    if domain is not None:
        domain = domain.restrict(columns)
    categories = dict(categories or {})
    codes = np.empty((df.height, len(columns)), dtype=np.int32)
    cats_out: list[tuple[str, ...]] = []
    doms: dict[str, ColumnDomain] = {}
    outside: list[int] = []
    for j, name in enumerate(columns):
        s = df.get_column(name)
        text = s.cast(pl.String) if s.dtype != pl.Boolean else s.cast(pl.String).str.to_lowercase()
        text = text.str.strip_chars()
        text = pl.select(pl.when(text == "").then(None).otherwise(text).alias(name)).to_series()
        if domain is not None:
            doms[name] = domain[name]
            cats = doms[name].values
        elif name in categories:
            cats = tuple(str(v) for v in categories[name])
            doms[name] = ColumnDomain(cats, "given by the caller")
        else:
            cats = tuple(sorted(text.drop_nulls().unique().to_list(), key=_natural_key))
            doms[name] = Domain.observed({name: cats})[name]
        mapping = {v: i for i, v in enumerate(cats)}
        codes[:, j] = text.replace_strict(mapping, default=MISSING, return_dtype=pl.Int32).to_numpy()
        outside.append(int(text.is_not_null().sum()) - int((codes[:, j] >= 0).sum()))
        cats_out.append(cats)
    return EncodedTable(columns, tuple(cats_out), codes, tuple(df.schema[c] for c in columns), Domain(doms),
                        tuple(outside))


def _natural_key(v: str) -> tuple[int, float, str]:
    """Order numbers numerically and text alphabetically, so codes (and reports) read naturally."""
    try:
        return (0, float(v), v)
    except ValueError:
        return (1, 0.0, v)


def read_table(path: str | Path) -> pl.DataFrame:
    """Read a CSV or Parquet file as a polars frame (CSV columns stay text so codes are kept verbatim).

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "t.csv")
    >>> _ = open(p, "w").write("a,b\\n1,x\\n,y\\n")
    >>> read_table(p).rows()
    [('1', 'x'), (None, 'y')]
    """
    path = Path(path)
    if not path.exists():
        raise PrivacyError(f"File not found: {path}.", {"file": str(path)})
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return pl.read_parquet(path)
    if suffix in {".csv", ".txt", ".tsv"}:
        sep = "\t" if suffix == ".tsv" else ","
        return pl.read_csv(path, separator=sep, infer_schema=False)
    raise PrivacyError(
        f"Cannot read {path.name}: expected a .csv or .parquet file.", {"file": str(path), "suffix": suffix}
    )
