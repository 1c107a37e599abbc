"""The privacy budget as one value: `Budget(epsilon, delta, rho)`, passed whole through methods, ledger and CLI.

NOTE: pure Python + OpenDP (for the rho conversion); no Django.

Two kinds of budget share the type:

- a **DP computation's budget**, `Budget.dp(epsilon, delta)`: what one release may spend. `rho` is the largest
  zCDP budget whose OpenDP conversion is (epsilon, delta)-DP; the mechanism spends at most that rho.
- a **total** (the ledger's allowance per dataset), `Budget(epsilon, delta)`: compared by basic composition,
  so it has no rho.

**delta never comes from the data.** It is either given, or derived from a *public* bound on the number of
records, `delta = 1 / (N ln N)` with N = `DEFAULT_MAX_RECORDS` (1,000,000) unless the release declares another.
The old rule `1 / (n ln n)` used the exact input size n, and published delta gave n back exactly. With
N >= n, delta is at most 1 / (n ln n), the usual "delta well below 1/n" convention, for every input up to N
records; an input larger than N still gets the stated (epsilon, delta)-DP guarantee, only with a delta above
that convention (the release report tells the steward).

>>> b = Budget.dp(4.0)
>>> b.epsilon, f"{b.delta:.3g}", b.delta_rule
(4.0, '7.24e-08', '1/(N ln N), N = 1000000 (public bound on the number of records)')
>>> 0.26 < b.rho < 0.262
True
>>> Budget.dp(1.0, delta=1e-6).delta_rule
'given'
>>> Budget(10.0, 1e-5).rho is None  # a total, compared by basic composition
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ctdc.errors import InvalidPrivacyParameter

DEFAULT_EPSILON = 4.0
# The public bound on the number of records of one release's input that the default delta is derived from.
# Larger than any contributor's collection and than CTDC's global dataset (about 200,000 victims in 2024).
DEFAULT_MAX_RECORDS = 1_000_000


def delta_for_records(max_records: int) -> float:
    """The default delta for inputs of at most `max_records` records (a public bound): 1 / (N ln N).

    >>> f"{delta_for_records(250_000):.3g}"
    '3.22e-07'
    """
    n = int(max_records)
    if n < 3:
        raise InvalidPrivacyParameter(
            "The public bound on the number of records must be at least 3.", {"max_records": max_records}
        )
    return 1.0 / (n * math.log(n))


@dataclass(frozen=True)
class Budget:
    """A privacy budget: epsilon, delta and (for one DP computation) the zCDP rho that converts to them."""

    epsilon: float
    delta: float = 0.0
    rho: float | None = None
    # How delta was chosen, for reports: "given", or the public bound it was derived from.
    delta_rule: str = field(default="given", compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.epsilon >= 0 or not 0 <= self.delta < 1 or (self.rho is not None and not self.rho >= 0):
            raise InvalidPrivacyParameter(
                "A budget needs epsilon >= 0, 0 <= delta < 1 and rho >= 0.",
                {"epsilon": self.epsilon, "delta": self.delta, "rho": self.rho},
            )

    @classmethod
    def dp(
        cls, epsilon: float = DEFAULT_EPSILON, delta: float | None = None, *,
        max_records: int = DEFAULT_MAX_RECORDS,
    ) -> Budget:
        """The budget of one DP computation: (`epsilon`, `delta`) and the rho OpenDP converts to them.

        `delta` None: 1 / (N ln N) for the public bound N = `max_records`, never the input's size.
        """
        from ctdc.privacy.accounting import rho_for  # OpenDP loads only when a DP budget is made

        if not epsilon > 0:
            raise InvalidPrivacyParameter("epsilon must be positive.", {"epsilon": epsilon})
        if delta is None:
            value = delta_for_records(max_records)
            rule = f"1/(N ln N), N = {int(max_records)} (public bound on the number of records)"
        else:
            value, rule = float(delta), "given"
        if not 0 < value < 1:
            raise InvalidPrivacyParameter("delta must be in (0, 1).", {"delta": value})
        return cls(float(epsilon), value, rho_for(float(epsilon), value), rule)

    def as_dict(self) -> dict[str, float | str | None]:
        """JSON-ready: epsilon, delta, rho and the delta rule."""
        return {"epsilon": self.epsilon, "delta": self.delta, "rho": self.rho, "delta_rule": self.delta_rule}
