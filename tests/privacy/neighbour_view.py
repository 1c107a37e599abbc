"""What in a DP output's protection record may be compared between neighbouring inputs, and how.

The protection record holds three kinds of entries:

- public: epsilon, delta, rho, the mechanism, the domain, the length-1 candidate count, the percentile's rho...
  These must be identical for neighbouring inputs;
- functions of the contribution bound m*, itself a DP output (a private percentile): the sensitivities, sds,
  thresholds, the rho spent per length, the choice of 1-way cells. These may differ between two runs, so
  `public_protection` checks that each is exactly the function of m* (and public numbers) that the mechanism
  documents, and leaves them out of the comparison. A sd computed from anything else (the data) fails there;
- functions of earlier noisy outputs: candidates of length >= 2 (built from the survivors below). Left out.

DP synthesis (`marginal_model`) has no m*: its sds follow from public shares of the budget, and its noisy
outputs (record count, compressed domain, cliques) sit under "model", left out.
"""

from __future__ import annotations

import math

M_STAR_KEYS = frozenset({
    "attributes_per_record_bound", "contribution_bound_by_length", "l2_sensitivity_by_length", "sigma_by_length",
    "threshold_by_length", "rho_by_length", "rho_spent", "epsilon_spent", "one_way_cells", "one_way_by_column",
})


def public_protection(p: dict, columns: int) -> dict:
    """The entries of protection record `p` that must not depend on any one victim (see the module docstring),
    after checking that the m*-dependent entries are the documented function of m*. `columns`: table width."""
    if "model" in p:
        return _marginal_model_protection(p)
    m = p["attributes_per_record_bound"]
    missing_cells = columns <= m + 1
    assert p["one_way_cells"].startswith("values and a missing cell" if missing_cells else "values and the record")
    for length, sensitivity in p["l2_sensitivity_by_length"].items():
        size = int(length)
        expected = 1.0 if size == 1 and missing_cells else math.sqrt(math.comb(m, size) + (size == 1))
        assert math.isclose(sensitivity, expected, rel_tol=1e-9), (length, sensitivity, expected)
        if size > 1 or not missing_cells:
            sigma = sensitivity / math.sqrt(2 * p["rho_by_length"][length])
            assert math.isclose(p["sigma_by_length"][length], sigma, rel_tol=1e-6), (length, sigma)
    for column in p.get("one_way_by_column", {}).values():
        assert math.isclose(column["sigma"], 1 / math.sqrt(2 * column["rho"]), rel_tol=1e-6)
    out = {k: v for k, v in p.items() if k not in M_STAR_KEYS}
    # Length 1 counts every domain value plus a missing cell per column, or plus the record count (m* decides).
    out["candidates_by_length"] = {"1": p["candidates_by_length"]["1"] - (columns if missing_cells else 1)}
    if missing_cells and "domain" in p:
        # Each column's rho is the length-1 rho in proportion to (domain values + 1)^(2/3): the domain sizes only.
        sizes = {c: int(text.rsplit("(", 1)[1].split()[0]) + 1 for c, text in p["domain"].items()}
        rhos = {c: v["rho"] for c, v in p["one_way_by_column"].items()}
        total = sum(rhos.values())
        weight = sum(v ** (2 / 3) for v in sizes.values())
        for c, rho in rhos.items():
            assert math.isclose(rho / total, sizes[c] ** (2 / 3) / weight, rel_tol=1e-6), c
    return out


def _marginal_model_protection(p: dict) -> dict:
    """DP synthesis (`marginal_model`): every sd follows from its rho (a public split of the budget over the
    public domain sizes); the released noisy outputs (record count, compressed domain, chosen cliques) are
    under "model" and left out. Everything else, rho and epsilon spent included, must be identical."""
    for column in p["one_way_measurement"].values():
        assert math.isclose(column["sigma"], 1 / math.sqrt(2 * column["rho"]), rel_tol=1e-6)
    assert math.isclose(p["sigma_clique"], 1 / math.sqrt(2 * p["rho_clique"]), rel_tol=1e-6)
    return {k: v for k, v in p.items() if k != "model"}


def row_sds(aggregates_frame, p: dict) -> dict[tuple[int, str], str]:
    """The sd stated on each row of aggregates.csv by (length, column of a 1-way row), checked against the
    protection record's sigmas (one text per key)."""
    import polars as pl

    key = pl.when(pl.col("length") == 1).then(pl.col("combination").str.extract(r"^([^:]*):", 1)).otherwise(
        pl.lit(""))
    rows = aggregates_frame.select(pl.col("length").cast(pl.Int64), key.alias("column"), pl.col("protection"))
    if "model" in p:  # DP synthesis: the counts of the DP rows, one text for every row and no sd of their own
        texts = rows["protection"].unique().to_list()
        assert len(texts) == 1 and texts[0].endswith("; counts of the DP synthetic rows"), texts
        return {(0, ""): texts[0]}
    out: dict[tuple[int, str], str] = {}
    by_column = {c: v["sigma"] for c, v in p.get("one_way_by_column", {}).items()}
    for length, column, text in rows.unique().iter_rows():
        assert out.setdefault((length, column), text) == text  # one text per length (and 1-way column)
        if length >= 1:
            sigma = by_column[column] if length == 1 and by_column else p["sigma_by_length"][str(length)]
            stated = float(text.rsplit(" sd=", 1)[1])
            assert abs(stated - sigma) <= 0.05 + 1e-9, (text, sigma)  # written rounded to one decimal
    return out
