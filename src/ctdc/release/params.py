"""The bounds of a release's privacy parameters, checked wherever a build is asked for (page, command, service).

NOTE: pure Python; never import Django here.

A parameter left out takes its default; a parameter given is used as given or refused, never replaced: a k of 0
does not quietly become 11, an epsilon of 0 does not become 4. `check_build_params` reports every bad parameter at
once, each with a message that says what is allowed, in `extra["errors"]` (parameter -> message) so a form can
show each beside its field.

>>> check_build_params(method="k-anonymity", k=11, epsilon=None, delta=None, length=3)
>>> try:
...     check_build_params(method="dp-synthetic", k=1, epsilon=-1.0, delta=None, length=99)
... except InvalidPrivacyParameter as exc:
...     sorted(exc.extra["errors"])
['epsilon', 'k', 'length']
"""

from __future__ import annotations

import math

from ctdc.errors import InvalidPrivacyParameter
from ctdc.privacy.budget import DEFAULT_EPSILON, DEFAULT_MAX_RECORDS, Budget, delta_for_records

K_MIN = 2
K_MAX = 1000
LENGTH_MIN, LENGTH_MAX = 1, 4
SEED_MAX = 2**32 - 1
DP_METHODS = ("dp-synthetic",)


def check_build_params(*, method: str, k: int | None, epsilon: float | None, delta: float | None,
                       length: int | None, seed: int | None = None, remaining: Budget | None = None) -> None:
    """Raise `InvalidPrivacyParameter` listing every parameter outside its bounds (None means "not given").

    `remaining` is the dataset's privacy budget left; a DP method may spend at most that.
    """
    errors: dict[str, str] = {}
    if k is not None and not (isinstance(k, int) and K_MIN <= k <= K_MAX):
        errors["k"] = (f"k must be a whole number from {K_MIN} to {K_MAX}: every released combination of values is "
                       "shared by at least k people.")
    if length is not None and not (isinstance(length, int) and LENGTH_MIN <= length <= LENGTH_MAX):
        errors["length"] = f"The reporting length L must be a whole number from {LENGTH_MIN} to {LENGTH_MAX}."
    if seed is not None and not (isinstance(seed, int) and 0 <= seed <= SEED_MAX):
        errors["seed"] = f"The seed must be a whole number from 0 to {SEED_MAX}."
    dp = method in DP_METHODS
    if epsilon is not None:
        if not (isinstance(epsilon, int | float) and math.isfinite(epsilon) and epsilon > 0):
            errors["epsilon"] = "epsilon must be a number greater than 0."
        elif dp and remaining is not None and epsilon > remaining.epsilon + 1e-9:
            errors["epsilon"] = (f"epsilon {epsilon:g} is more than the {remaining.epsilon:g} left of this dataset's "
                                 "privacy budget.")
    elif dp and remaining is not None and remaining.epsilon <= 0:
        errors["epsilon"] = "This dataset's privacy budget is spent: no differentially private release can be built."
    elif dp and remaining is not None and remaining.epsilon + 1e-9 < DEFAULT_EPSILON:
        errors["epsilon"] = (f"The default epsilon {DEFAULT_EPSILON:g} is more than the {remaining.epsilon:g} left of "
                             "this dataset's privacy budget: give a smaller epsilon.")
    if delta is not None:
        if not (isinstance(delta, int | float) and math.isfinite(delta) and 0 < delta < 1):
            errors["delta"] = "delta must be a number greater than 0 and less than 1."
        elif dp and remaining is not None and delta > remaining.delta + 1e-15:
            errors["delta"] = f"delta {delta:g} is more than the {remaining.delta:g} left of this dataset's budget."
    elif dp and remaining is not None and (default := delta_for_records(DEFAULT_MAX_RECORDS)) > remaining.delta:
        errors["delta"] = (f"The default delta {default:.3g} is more than the {remaining.delta:g} left of this "
                           "dataset's budget: give a smaller delta.")
    if errors:
        raise InvalidPrivacyParameter(" ".join(errors.values()), {"errors": errors})
