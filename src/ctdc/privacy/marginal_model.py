"""DP synthetic data from a junction tree of noisy marginals, blank a value of every column (zCDP, OpenDP).

NOTE: pure numpy + OpenDP; no Django. Every noise sample and every private selection comes from OpenDP
(`make_gaussian` through `dp.make_gaussian_counts`, `make_noisy_max`); numpy's seeded Generator only draws
rows from the already private model (post-processing). Mechanism notes: `NOTES.md` (section "Marginal model").

Privacy unit: one record (add or remove one row). Every table measured here is a full contingency table over
the public domain, with the blank (missing) cell and, after compression, a "rare" cell, so each record adds
exactly one to one cell of each table: L2 sensitivity 1 per table whatever the record holds.

Outline (the MST/AIM family: McKenna, Miklau & Sheldon 2021; McKenna et al. 2022):

1. one-way: each column's values and blank cell, measured alone (Gaussian, sensitivity 1) with rho_j in
   proportion to its cells^(2/3) (`dp._measure_one_way_by_column`); made to agree on one record count n^.
2. compress (post-processing): per column, values whose noisy count is below `compress_sigmas` sigma_j
   merge into one "rare" cell (249 public countries -> the ~20 that occur, plus rare), blank kept as a value.
3. select and measure, one clique per round (adaptive zCDP composition, `rounds` = p - 1 fixed in advance):
   the first clique is a pair of columns; each later round adds one new column c with parents P, a column
   or a pair of columns inside an existing clique (so the cliques form a junction tree). Candidates are
   scored by how far the true table of P + c is from what the model already says (its table of P times c's
   one-way share), less the L1 error the noise of measuring it would add (AIM's penalty); OpenDP's noisy max
   picks one (scores move by at most 1 per record), and the chosen clique's full table is measured with the
   Gaussian at sensitivity 1.
4. fit (post-processing): each clique's table is projected, row by row (one row per value of P), onto
   non-negative counts summing to the model's count of that parent value (Euclidean projection onto the
   simplex: a shift and a cut at zero, which zeroes most noise-only cells), then raked onto c's one-way.
5. sample (post-processing): ancestral sampling along the cliques with a seeded numpy Generator, uniforms
   stratified among records that share parent values (counts within one of their expectation); rare cells
   decoded to a rare value in proportion to its (positive) noisy one-way count.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from ctdc.errors import InvalidPrivacyParameter
from ctdc.privacy.accounting import dp, enable_opendp, epsilon_of, make_gaussian_counts
from ctdc.privacy.budget import Budget
from ctdc.privacy.dp import DOMAIN_WARNING
from ctdc.privacy.table import MISSING, EncodedTable

PRIVACY_UNIT = "one record (add or remove one row)"


@dataclass(frozen=True)
class MarginalSettings:
    """Parameters of `fit_marginal_model`; shares of rho: one-way, selection, clique measurements (the rest)."""

    # epsilon 4 and delta 1/(N ln N) for the public bound N = 1,000,000 records (`Budget.dp`), never from n.
    budget: Budget = field(default_factory=lambda: Budget.dp())
    length: int = 3  # largest clique: 2 (a tree, as MST) or 3
    one_way_share: float = 0.55
    select_share: float = 0.1
    compress_sigmas: float = 3.0
    # Columns' shares of the one-way budget go as cells^(2/3) (least summed absolute error), with a large
    # public domain counted as this many cells: most of 249 countries are empty and compression drops them.
    cells_cap: int = 32


@dataclass(frozen=True)
class _Clique:
    cols: tuple[int, ...]  # parents first, the new column last
    table: np.ndarray  # fitted counts, axes in the order of `cols` (compressed codes)


@dataclass(eq=False)
class MarginalModel:
    """The fitted (private) model: compressed one-way counts and clique tables; `sample` draws rows from it."""

    columns: tuple[str, ...]
    total: float
    one_way: list[np.ndarray]  # compressed: kept values, then blank, then rare (if any)
    kept: list[np.ndarray]  # original codes of the kept values of each column
    rare: list[np.ndarray]  # original codes merged into the rare cell
    rare_weights: list[np.ndarray]  # how rare cells decode (positive noisy one-way counts of the rare values)
    cliques: list[_Clique]
    protection: dict[str, Any] = field(default_factory=dict)

    @property
    def sizes(self) -> np.ndarray:
        return np.array([len(m) for m in self.one_way], dtype=np.int64)

    def sample(self, n: int | None = None, seed: int = 0) -> np.ndarray:
        """`n` rows of original codes (`-1` blank), by default the model's noisy record count; seeded."""
        n = int(round(self.total)) if n is None else int(n)
        if n < 0:
            raise InvalidPrivacyParameter("The number of synthetic records must not be negative.", {"n": n})
        rng = np.random.default_rng(seed)
        p = len(self.columns)
        z = np.zeros((p, n), dtype=np.int64)  # one contiguous row per column
        drawn: set[int] = set()
        for k, clique in enumerate(self.cliques):
            if k == 0:
                new = list(clique.cols)
                flat = _draw_grouped(clique.table.reshape(1, -1), np.zeros(n, dtype=np.int64), rng)
                for c, codes in zip(new, np.unravel_index(flat, clique.table.shape), strict=True):
                    z[c] = codes
            else:
                *parents, c = clique.cols
                group = np.ravel_multi_index(tuple(z[a] for a in parents), clique.table.shape[:-1])
                z[c] = _draw_grouped(clique.table.reshape(-1, clique.table.shape[-1]), group, rng)
                new = [c]
            drawn.update(new)
        for c in sorted(set(range(p)) - drawn):  # a column no clique holds (p == 1): its one-way alone
            z[c] = _draw_grouped(self.one_way[c][None, :], np.zeros(n, dtype=np.int64), rng)
        return self._decode(z, rng)

    def _decode(self, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        out = np.empty((z.shape[1], z.shape[0]), dtype=np.int32, order="F")  # filled column by column
        for c in range(z.shape[0]):
            kept, rare, w = self.kept[c], self.rare[c], self.rare_weights[c]
            lookup = np.append(kept, MISSING).astype(np.int32)
            col = lookup[np.minimum(z[c], len(kept))]
            is_rare = z[c] == len(kept) + 1
            if is_rare.any():
                if w.sum() > 0:
                    col[is_rare] = rng.choice(rare, size=int(is_rare.sum()), p=w / w.sum())
                else:
                    col[is_rare] = rng.choice(rare, size=int(is_rare.sum()))
            out[:, c] = col
        return np.ascontiguousarray(out)


def _draw_grouped(table: np.ndarray, group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each record, a cell index drawn from row `group[i]` of `table` (non-negative weights).

    Records of one group share a distribution, so their uniforms are stratified (systematic sampling): a
    group's counts per cell are within one of their expectation. A row without weight falls back to the
    column sums (the cell's overall frequency).
    """
    n = len(group)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    rows = np.asarray(table, dtype=np.float64)
    mass = rows.sum(axis=1)
    fallback = rows.sum(axis=0)
    if fallback.sum() <= 0:
        fallback = np.ones(rows.shape[1])
    rows = np.where((mass > 0)[:, None], rows, fallback[None, :])
    cum = np.cumsum(rows, axis=1)
    cum /= cum[:, -1:]
    # Records by group, in random order within each group: a random permutation, then a stable sort by group
    # (a radix sort on small integers, several times faster than sorting random floats). Everything after
    # works in that order (uniforms rising within each group), and the choices go back to the records at the end.
    perm = rng.permutation(n)
    small = np.int16 if rows.shape[0] < 2**15 else np.int64
    by_group = np.argsort(group[perm].astype(small), kind="stable")
    order = perm[by_group]
    sorted_group = group[order]
    sizes = np.bincount(group, minlength=rows.shape[0])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(n) - np.repeat(starts, sizes)
    offset = rng.random(rows.shape[0])
    u = (rank + offset[sorted_group]) / sizes[sorted_group]
    width = rows.shape[1]
    shifted = (cum + np.arange(rows.shape[0])[:, None]).ravel()
    choice = np.empty(n, dtype=np.int64)
    choice[order] = np.searchsorted(shifted, u + sorted_group, side="right") - sorted_group * width
    return np.minimum(choice, width - 1)


def project_rows(y: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Euclidean projection of each row of `y` onto {x >= 0, sum(x) = target}: x = max(y - lambda, 0).

    The shift lambda is the row's own: noise spread over many empty cells raises the row's sum, the shift
    takes it back out, and cells whose noisy count was below lambda become 0 (post-processing of noisy counts,
    as Private-PGM's estimate does through its loss). A row with target 0 becomes all zeros.

    >>> project_rows(np.array([[5.0, -1.0, 2.0]]), np.array([4.0])).tolist()
    [[3.5, 0.0, 0.5]]
    """
    y = np.asarray(y, dtype=np.float64)
    t = np.maximum(np.asarray(targets, dtype=np.float64), 0.0)
    srt = -np.sort(-y, axis=1)
    css = np.cumsum(srt, axis=1) - t[:, None]
    idx = np.arange(1, y.shape[1] + 1)
    cond = srt - css / idx > 0
    r = np.maximum(cond.sum(axis=1), 1)
    lam = css[np.arange(len(y)), r - 1] / r
    return np.maximum(y - lam[:, None], 0.0) * (t > 0)[:, None]


def _rake(table: np.ndarray, rows: np.ndarray, cols: np.ndarray, rounds: int = 50) -> np.ndarray:
    """Iterative proportional fitting of a 2-D table onto row and column totals (zeros stay zero)."""
    x = table.copy()
    for _ in range(rounds):
        s = x.sum(axis=0)
        x *= np.divide(cols, s, out=np.ones_like(s), where=s > 0)[None, :]
        r = x.sum(axis=1)
        x *= np.divide(rows, r, out=np.ones_like(r), where=r > 0)[:, None]
    return x


def selection_score(
    truth: np.ndarray, parents: np.ndarray, child: np.ndarray, total: float, penalty: float
) -> float:
    """How much measuring the table `truth` (parents' axes, then the child's) would tell the model.

    The L1 distance between the true table and what the model says without it (its table of the parents times
    the child's one-way share), less `penalty` per cell (the L1 error the measurement's own noise adds, about
    sqrt(2/pi) sigma a cell). `parents`, `child`, `total` and `penalty` are released values or constants, so
    adding or removing one record moves one cell of `truth` by one and the score by at most 1: the
    sensitivity that the noisy max is calibrated to.

    >>> float(selection_score(np.array([[3.0, 0.0], [0.0, 3.0]]), np.array([3.0, 3.0]), np.array([3.0, 3.0]), 6.0, 0.5))
    4.0
    """
    est = np.multiply.outer(parents, child / max(total, 1.0))
    return float(np.abs(truth - est).sum()) - penalty * truth.size


def _noisy_max(scores: np.ndarray, rho: float) -> tuple[int, float]:
    """Index of the highest score, chosen by OpenDP's noisy max (Gumbel) at `rho`-zCDP for scores of
    sensitivity 1 that may move in either direction when one record is added or removed."""
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.linf_distance(T=float, monotonic=False)

    def make(scale: float) -> dp.Measurement:
        return dp.m.make_noisy_max(*space, dp.zero_concentrated_divergence(), scale=scale)

    # (2 / scale)^2 / 8 is OpenDP's map at d_in = 1 for non-monotonic scores; confirmed by its own map.
    scale = 2.0 / math.sqrt(8.0 * rho)
    meas = make(scale)
    while meas.map(1.0) > rho:
        scale *= 1.0 + 1e-9
        meas = make(scale)
    return int(meas([float(s) for s in scores])), float(meas.map(1.0))


def _fit_clique(cols: tuple[int, ...], y: np.ndarray, parent: np.ndarray, child: np.ndarray) -> _Clique:
    """A clique's noisy table made non-negative and consistent: each parent value's row projected onto the
    simplex of the model's count of that value, then raked onto the new column's one-way counts."""
    flat = project_rows(y.reshape(-1, y.shape[-1]), parent.ravel())
    flat = _rake(flat, parent.ravel(), child)
    return _Clique(cols, flat.reshape(y.shape))


def _combine_one_way(
    one_way: list[np.ndarray],
    one_way_var: list[np.ndarray],
    raw: list[tuple[tuple[int, ...], np.ndarray]],
    sigma_clique: float,
    total: float,
) -> list[np.ndarray]:
    """Each column's counts as the inverse-variance mean of its one-way measurement and of the margins of the
    noisy clique tables that hold it (a margin summing m cells has variance m sigma^2), projected onto the
    simplex of the record count. Post-processing of released values."""
    num = [v / w for v, w in zip(one_way, one_way_var, strict=True)]
    den = [1.0 / w for w in one_way_var]
    for cols, y in raw:
        for axis, c in enumerate(cols):
            margin = y.sum(axis=tuple(a for a in range(y.ndim) if a != axis))
            var = sigma_clique**2 * (y.size / y.shape[axis])
            num[c] = num[c] + margin / var
            den[c] = den[c] + 1.0 / var
    return [project_rows((a / b)[None, :], np.array([total]))[0] for a, b in zip(num, den, strict=True)]


class _Tables:
    """True contingency tables of the compressed codes, computed once per column tuple (the private input).

    The packed key of a tuple's prefix is kept for the separators (columns tuples that later tables extend),
    so a table of three columns costs one multiply-add and one bincount over the records.

    Sparse last column: each column's most frequent code (blank, for nearly every flag column) is not counted
    record by record. Its cells are the prefix's table less the other codes' cells, so a table scans only the
    records holding another code of its last column (a few percent for most flags) plus the prefix's table,
    counted once and cached: the same integer counts for a fraction of the work (issue 17, item 7: 40 more flag
    columns in the victims release).

    Both caches are bounded (least recently used out first): kept whole, the pair keys (4 bytes a record, one per
    pair of columns) and the dense tables took 3 GB on a 250,000 x 61-column release table (issue 17's release
    benchmark). The candidates of one separator are scored one after the other, so a few hundred entries keep
    nearly every hit; a table evicted and asked for again is counted again, with the same result.
    """

    KEYS = 128                     # pair keys kept (n x 4 bytes each)
    TABLE_BYTES = 256 * 2**20      # dense tables kept, in bytes
    SPARSE = 0.5                   # count through the other codes' records when they are at most this share

    def __init__(self, z: np.ndarray, sizes: np.ndarray) -> None:
        self.cols = [np.ascontiguousarray(z[:, c], dtype=np.int32) for c in range(z.shape[1])]
        self.sizes = sizes
        self.n = z.shape[0]
        self.common: list[int] = []
        self.others: list[np.ndarray | None] = []  # records not holding the column's most frequent code
        for col, size in zip(self.cols, sizes, strict=True):
            common = int(np.argmax(np.bincount(col, minlength=int(size)))) if len(col) else 0
            rows = np.flatnonzero(col != common)
            self.common.append(common)
            self.others.append(rows if len(rows) <= self.SPARSE * self.n else None)
        self._cache: OrderedDict[tuple[int, ...], np.ndarray] = OrderedDict()
        self._cache_bytes = 0
        self._keys: OrderedDict[tuple[int, ...], np.ndarray] = OrderedDict()

    def _key(self, cols: tuple[int, ...]) -> np.ndarray:
        if len(cols) == 1:
            return self.cols[cols[0]]
        hit = self._keys.get(cols)
        if hit is None:
            hit = self._key(cols[:-1]) * np.int32(self.sizes[cols[-1]]) + self.cols[cols[-1]]
            if len(cols) == 2:
                self._keys[cols] = hit
                if len(self._keys) > self.KEYS:
                    self._keys.popitem(last=False)
        else:
            self._keys.move_to_end(cols)
        return hit

    def _count(self, cols: tuple[int, ...], shape: tuple[int, ...]) -> np.ndarray:
        c = cols[-1]
        rows = self.others[c] if len(cols) > 1 else None
        if rows is None:
            return np.bincount(self._key(cols), minlength=int(np.prod(shape))).reshape(shape)
        prefix = self.get(cols[:-1]).astype(np.int64).ravel()
        size = int(self.sizes[c])
        part = np.bincount(self._key(cols[:-1])[rows].astype(np.int64) * size + self.cols[c][rows],
                           minlength=len(prefix) * size).reshape(len(prefix), size)
        part[:, self.common[c]] = prefix - part.sum(axis=1)
        return part.reshape(shape)

    def get(self, cols: tuple[int, ...]) -> np.ndarray:
        hit = self._cache.get(cols)
        if hit is None:
            shape = tuple(int(self.sizes[c]) for c in cols)
            if int(np.prod(shape, dtype=np.float64)) >= 2**31:
                raise InvalidPrivacyParameter("A clique's table is too large to count.", {"cells": shape})
            hit = self._count(cols, shape).astype(np.float64)
            self._cache[cols] = hit
            self._cache_bytes += hit.nbytes
            while self._cache_bytes > self.TABLE_BYTES and len(self._cache) > 1:
                _cols, old = self._cache.popitem(last=False)
                self._cache_bytes -= old.nbytes
        else:
            self._cache.move_to_end(cols)
        return hit


def fit_marginal_model(table: EncodedTable, settings: MarginalSettings | None = None) -> MarginalModel:
    """Fit the private model of `table` (see module docstring); (epsilon, delta)-DP for one record.

    Caller must make true: one person is one row; `table.categories` is the public domain of each column
    (encode with a public `Domain` or `categories=`); the budget's delta does not depend on the data.
    """
    s = settings or MarginalSettings()
    enable_opendp()
    if s.length < 2:
        raise InvalidPrivacyParameter("The marginal model needs cliques of at least 2 columns.", {"length": s.length})
    if not 0 < s.one_way_share < 1 or not 0 < s.select_share < 1 or s.one_way_share + s.select_share >= 1:
        raise InvalidPrivacyParameter(
            "one_way_share and select_share must be positive and leave a share for the cliques.",
            {"one_way_share": s.one_way_share, "select_share": s.select_share},
        )
    if s.budget.rho is None:
        raise InvalidPrivacyParameter("The marginal model needs a DP budget (Budget.dp), not a total.", {})
    delta, rho = s.budget.delta, float(s.budget.rho)
    p, card, codes, names = table.p, table.cardinalities, table.codes, list(table.columns)
    rounds = max(p - 1, 1)
    rho_one = rho * (s.one_way_share if p > 1 else 1.0 - 1e-9)  # one column: no cliques to measure
    rho_select = rho * s.select_share / rounds
    rho_clique = rho * (1.0 - s.one_way_share - s.select_share) / rounds * (1.0 - 1e-9)
    spent: list[float] = []

    # 1. one-way (values, then blank), each column alone at sensitivity 1
    weights = np.minimum(card + 1, s.cells_cap).astype(np.float64) ** (2.0 / 3.0)
    cells_noisy, rho_cols = [], []
    for j, share in enumerate(weights / weights.sum() * (1.0 - 1e-9)):
        col = codes[:, j]
        true = np.bincount(np.where(col >= 0, col, card[j]), minlength=int(card[j]) + 1)  # values, then blank
        meas = make_gaussian_counts(1.0, float(rho_one * share))
        cells_noisy.append(np.asarray(meas(true.astype(np.int64).tolist()), dtype=np.float64))
        rho_cols.append(float(meas.map(1.0)))
    rho_cols = np.array(rho_cols)
    spent.append(float(rho_cols.sum()))
    sigma_cols = 1.0 / np.sqrt(2.0 * rho_cols)
    # One record count for all columns: inverse-variance mean of the column sums (post-processing).
    sums = np.array([v.sum() for v in cells_noisy])
    var_sums = (card + 1) * sigma_cols**2
    total = max(float(np.sum(sums / var_sums) / np.sum(1.0 / var_sums)), 0.0)

    # 2. compress (post-processing of the one-way counts)
    kept, rare, rare_w, one_way, one_way_var = [], [], [], [], []
    z = np.empty(codes.shape, dtype=np.int64)
    for j in range(p):
        cells = cells_noisy[j]
        values, blank = cells[:-1], cells[-1]
        keep = values >= s.compress_sigmas * sigma_cols[j]
        k_codes, r_codes = np.flatnonzero(keep), np.flatnonzero(~keep)
        kept.append(k_codes)
        rare.append(r_codes)
        rare_w.append(np.maximum(values[r_codes], 0.0))
        vec = [*values[k_codes], blank]
        var = [sigma_cols[j] ** 2] * (len(k_codes) + 1)
        if len(r_codes):
            vec.append(max(float(values[r_codes].sum()), 0.0))
            var.append(sigma_cols[j] ** 2 * len(r_codes))
        one_way.append(np.array(vec))
        one_way_var.append(np.array(var))
        remap = np.full(int(card[j]) + 1, len(k_codes) + 1, dtype=np.int64)  # rare by default
        remap[k_codes] = np.arange(len(k_codes))
        remap[-1] = len(k_codes)  # blank (code -1 indexes the last entry)
        z[:, j] = remap[codes[:, j]]
    sizes = np.array([len(m) for m in one_way], dtype=np.int64)
    tables = _Tables(z, sizes)
    one_way = [project_rows(v[None, :], np.array([total]))[0] for v in one_way]

    # 3-4. select, measure and fit one clique per round
    sigma_clique = 1.0 / math.sqrt(2.0 * rho_clique)
    penalty = math.sqrt(2.0 / math.pi) * sigma_clique
    cliques: list[_Clique] = []
    covered: list[int] = []
    separators: list[tuple[int, ...]] = []

    def model_table(sep: tuple[int, ...]) -> np.ndarray:
        if len(sep) == 1:
            return one_way[sep[0]]
        for cl in cliques:
            if set(sep) <= set(cl.cols):
                axes = tuple(i for i, c in enumerate(cl.cols) if c not in sep)
                t = cl.table.sum(axis=axes)
                order = [c for c in cl.cols if c in sep]
                return np.transpose(t, [order.index(c) for c in sep])
        raise AssertionError(f"separator {sep} is in no clique")

    scored: dict[tuple[tuple[int, ...], int], float] = {}

    def score(sep: tuple[int, ...], c: int) -> float:
        # The model's table of `sep` never changes once its clique is fitted, so a score is worked out once.
        if (sep, c) not in scored:
            scored[(sep, c)] = selection_score(tables.get((*sep, c)), model_table(sep), one_way[c], total, penalty)
        return scored[(sep, c)]

    selection_scores: list[float] = []
    raw: list[tuple[tuple[int, ...], np.ndarray]] = []
    for _ in range(rounds if p > 1 else 0):
        if len(covered) == p:
            break
        if not cliques:
            cands = [((a,), b) for a, b in combinations(range(p), 2)]
        else:
            cands = [(sep, c) for sep in separators for c in range(p) if c not in covered]
        scores = np.array([score(sep, c) for sep, c in cands])
        pick, rho_used = _noisy_max(scores, rho_select)
        spent.append(rho_used)
        sep, c = cands[pick]
        selection_scores.append(float(scores[pick]))
        cols = (*sep, c)
        truth = tables.get(cols)
        meas = make_gaussian_counts(1.0, rho_clique)
        y = np.asarray(meas(truth.astype(np.int64).ravel().tolist()), dtype=np.float64).reshape(truth.shape)
        spent.append(float(meas.map(1.0)))
        raw.append((cols, y))
        cliques.append(_fit_clique(cols, y, model_table(sep) if cliques else one_way[sep[0]], one_way[c]))
        for x in cols:
            if x not in covered:
                covered.append(x)
        for size in (1, 2):
            for sub in combinations(cols, size):
                if size < s.length and sub not in separators:
                    separators.append(tuple(sub))

    # 5. refit (post-processing): each column's counts from its one-way measurement and from the margins of
    # every clique holding it (inverse-variance weights), then every clique again in order.
    one_way = _combine_one_way(one_way, one_way_var, raw, sigma_clique, total)
    fitted: list[_Clique] = []
    for cols, y in raw:
        cliques = fitted
        parent = model_table(cols[:-1]) if fitted else one_way[cols[0]]
        fitted.append(_fit_clique(cols, y, parent, one_way[cols[-1]]))
    cliques = fitted
    rho_spent = float(sum(spent))
    protection: dict[str, Any] = {
        "method": "differential-privacy",
        "mechanism": "junction tree of noisy marginals, blank a value (OpenDP make_gaussian, make_noisy_max)",
        "privacy_unit": PRIVACY_UNIT,
        "epsilon": float(s.budget.epsilon),
        "delta": delta,
        "delta_rule": s.budget.delta_rule,
        "rho": rho,
        "rho_spent": rho_spent,
        "epsilon_spent": epsilon_of(rho_spent, delta),
        "rho_one_way": spent[0],
        "rho_selection_per_round": rho_select,
        "rho_clique": rho_clique,
        "sigma_clique": sigma_clique,
        "one_way_measurement": {
            name: {"rho": float(r), "sigma": float(g)}
            for name, r, g in zip(names, rho_cols, sigma_cols, strict=True)
        },
        "rounds": rounds if p > 1 else 0,
        # Released (noisy) outputs of the mechanism, not parameters: they differ from run to run.
        "model": {
            "record_count": total,
            "compressed_sizes": {name: int(v) for name, v in zip(names, sizes, strict=True)},
            "cliques": [[names[c] for c in cl.cols] for cl in cliques],
        },
        "domain_public": table.public_domain,
        "domain": table.domain.describe() if table.domain is not None else {},
    }
    if not table.public_domain:
        protection["domain_warning"] = DOMAIN_WARNING
    return MarginalModel(tuple(names), total, one_way, kept, rare, rare_w, cliques, protection)
