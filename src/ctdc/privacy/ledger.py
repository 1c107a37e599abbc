"""Privacy-budget ledger: every differentially private computation is recorded; overspending is refused.

NOTE: pure Python; no Django. The Django-backed store (one table in the central repository) plugs in later
through the two-method `LedgerStore` interface below.

Interface (all a store must do):

    class LedgerStore(Protocol):
        def entries(self) -> list[LedgerEntry]: ...      # everything recorded so far, oldest first
        def append(self, entry: LedgerEntry) -> None: ... # persist one more entry

Budgets are `ctdc.privacy.budget.Budget` values (epsilon, delta and, for a DP computation, rho), never loose
numbers; the ledger's total is a `Budget` without rho (basic composition compares epsilon and delta only).

Shipped stores: `MemoryStore` and `JsonLinesStore(path)`, one JSON object per line:

    {"dataset": "victims", "purpose": "release 2026.11.1", "epsilon": 4.0, "delta": 3.2e-07,
     "rho": 0.28, "date": "2026-11-25T18:00:00+00:00"}

Composition is basic (sequential): a dataset's spent epsilon and delta are the sums over its entries. That is
loose for many zCDP entries but always valid, whatever mechanism produced an entry.

>>> ledger = PrivacyLedger(total=Budget(epsilon=5.0, delta=1e-6))
>>> _ = ledger.charge(dataset="victims", purpose="release 2026.11.1", budget=Budget(4.0, 1e-7))
>>> ledger.remaining("victims")
Budget(epsilon=1.0, delta=9e-07, rho=None)
>>> ledger.charge(dataset="victims", purpose="extra table", budget=Budget(2.0, 1e-7))
Traceback (most recent call last):
...
ctdc.errors.BudgetExceeded: Dataset 'victims' has 1 of its epsilon 5 left; 'extra table' asks for epsilon 2. Nothing was released.
"""

from __future__ import annotations

import json
import threading
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from ctdc.errors import BudgetExceeded
from ctdc.privacy.budget import Budget

__all__ = ["Budget", "JsonLinesStore", "LedgerEntry", "LedgerStore", "MemoryStore", "PrivacyLedger"]

# Float sums of budgets drift by a few ulps; this much slack is not a privacy loss anyone can use.
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class LedgerEntry:
    dataset: str
    purpose: str
    epsilon: float
    delta: float
    rho: float | None
    date: str


class LedgerStore(Protocol):
    def entries(self) -> list[LedgerEntry]: ...

    def append(self, entry: LedgerEntry) -> None: ...


class MemoryStore:
    """Entries kept in a list (tests, one-off CLI runs)."""

    def __init__(self) -> None:
        self._entries: list[LedgerEntry] = []

    def entries(self) -> list[LedgerEntry]:
        return list(self._entries)

    def append(self, entry: LedgerEntry) -> None:
        self._entries.append(entry)


class JsonLinesStore:
    """Entries appended to a JSON-lines file; the file is the ledger (never rewritten)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def entries(self) -> list[LedgerEntry]:
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as fh:
            return [LedgerEntry(**json.loads(line)) for line in fh if line.strip()]

    def append(self, entry: LedgerEntry) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(entry), sort_keys=True) + "\n")


class PrivacyLedger:
    """Refuses any charge that would take a dataset's spending above `total` (per dataset)."""

    def __init__(self, total: Budget, store: LedgerStore | None = None) -> None:
        self.total = total
        self.store = store if store is not None else MemoryStore()
        self._lock = threading.Lock()

    def spent(self, dataset: str) -> Budget:
        entries = [e for e in self.store.entries() if e.dataset == dataset]
        return Budget(sum(e.epsilon for e in entries), min(sum(e.delta for e in entries), 0.999999))

    def remaining(self, dataset: str) -> Budget:
        s = self.spent(dataset)
        return Budget(max(self.total.epsilon - s.epsilon, 0.0), max(self.total.delta - s.delta, 0.0))

    def charge(
        self,
        *,
        dataset: str,
        purpose: str,
        budget: Budget,
        date: datetime | None = None,
    ) -> LedgerEntry:
        """Record a computation's budget, or raise `BudgetExceeded` (and record nothing) if it would overspend.

        Call it *before* releasing the computation's output: a refused charge means nothing may be released.
        `budget.rho` (the zCDP budget spent, when the computation has one) is recorded with the entry.
        """
        # The store's own lock (a database's, across processes) around the read, the check and the write: two
        # computations charged at once can never both pass a check made before either was written.
        with self._lock, getattr(self.store, "locked", nullcontext)():
            s = self.spent(dataset)
            if s.epsilon + budget.epsilon > self.total.epsilon + _TOLERANCE or (
                s.delta + budget.delta > self.total.delta + _TOLERANCE
            ):
                left = self.remaining(dataset)
                over_delta = s.delta + budget.delta > self.total.delta + _TOLERANCE
                asked = (f"delta {budget.delta:g} with {left.delta:g} of its delta {self.total.delta:g} left"
                         if over_delta else f"epsilon {budget.epsilon:g}")
                raise BudgetExceeded(
                    f"Dataset {dataset!r} has {left.epsilon:g} of its epsilon {self.total.epsilon:g} left;"
                    f" {purpose!r} asks for {asked}. Nothing was released.",
                    {
                        "dataset": dataset,
                        "purpose": purpose,
                        "requested": asdict(budget),
                        "remaining": asdict(left),
                        "total": asdict(self.total),
                    },
                )
            entry = LedgerEntry(
                dataset=dataset,
                purpose=purpose,
                epsilon=float(budget.epsilon),
                delta=float(budget.delta),
                rho=None if budget.rho is None else float(budget.rho),
                date=(date or datetime.now(UTC)).isoformat(),
            )
            self.store.append(entry)
            return entry
