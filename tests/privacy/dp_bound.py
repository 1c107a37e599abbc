"""A statistical test of the (epsilon, delta)-DP inequality from repeated runs on two neighbouring inputs.

For an event E of the output (e.g. "the unique value appears"), DP requires both

    P[E | D'] <= e^epsilon P[E | D] + delta   and   P[E | D] <= e^epsilon P[E | D'] + delta.

From `hits` of `runs` on each side we take exact one-sided Clopper-Pearson bounds (the binomial tail computed
exactly, no normal approximation): an upper bound on one side's probability and a lower bound on the other's,
each at level alpha / 4. The check fails only when the lower bound already exceeds e^epsilon times the upper
bound plus delta. If the mechanism is DP, failing needs one of the four bounds to be wrong, so a correct
mechanism fails with probability at most alpha (1e-6 by default: one spurious failure in a million runs of the
suite). A leak such as "never without the victim, one time in five with them" fails once runs are a few hundred
and e^epsilon is small (see the tests for the power on the old engine).
"""

from __future__ import annotations

import math

ALPHA = 1e-6


def _tail_le(k: int, n: int, p: float) -> float:
    """P(Bin(n, p) <= k), exactly (log-space terms, n up to a few thousand)."""
    if p <= 0:
        return 1.0
    if p >= 1:
        return 1.0 if k >= n else 0.0
    lp, lq = math.log(p), math.log1p(-p)
    terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq
             for i in range(0, k + 1)]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def upper_bound(hits: int, runs: int, level: float) -> float:
    """Clopper-Pearson one-sided upper bound: the largest p with P(Bin(runs, p) <= hits) >= level."""
    if hits >= runs:
        return 1.0
    lo, hi = hits / runs, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if _tail_le(hits, runs, mid) >= level:
            lo = mid
        else:
            hi = mid
    return hi


def lower_bound(hits: int, runs: int, level: float) -> float:
    """Clopper-Pearson one-sided lower bound: the smallest p with P(Bin(runs, p) >= hits) >= level."""
    if hits <= 0:
        return 0.0
    return 1.0 - upper_bound(runs - hits, runs, level)


def dp_violation(hits_a: int, hits_b: int, runs: int, epsilon: float, delta: float,
                 alpha: float = ALPHA) -> str | None:
    """A message when the counts prove (at false-alarm rate alpha) that the DP inequality fails, else None.

    >>> dp_violation(0, 100, 200, epsilon=0.5, delta=1e-6) is not None  # never vs half the time
    True
    >>> dp_violation(90, 110, 200, epsilon=0.5, delta=1e-6) is None
    True
    """
    level = alpha / 4
    bound = math.exp(epsilon)
    for x, y, name in ((hits_a, hits_b, "with / without"), (hits_b, hits_a, "without / with")):
        hi = upper_bound(x, runs, level)
        lo = lower_bound(y, runs, level)
        if lo > bound * hi + delta:
            return (f"{name}: {y}/{runs} vs {x}/{runs}; lower bound {lo:.3f} > e^{epsilon:g} x {hi:.3f} + delta"
                    f" = {bound * hi + delta:.3f} (false-alarm rate {alpha:g})")
    return None
