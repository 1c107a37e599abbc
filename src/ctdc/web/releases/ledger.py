"""The privacy-budget ledger of the central repository, stored in the database (one row per DP computation).

`ctdc.privacy.ledger.PrivacyLedger` does the accounting; this module only gives it a store every web process and
worker shares, and the configured total budget.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from django.conf import settings

from ctdc.privacy.ledger import Budget, LedgerEntry, PrivacyLedger
from ctdc.web.releases.models import PrivacyLedgerEntry


class DatabaseLedgerStore:
    """`LedgerStore` over the `PrivacyLedgerEntry` table."""

    def entries(self) -> list[LedgerEntry]:
        return [
            LedgerEntry(dataset=e.dataset, purpose=e.purpose, epsilon=e.epsilon, delta=e.delta, rho=e.rho,
                        date=e.date.isoformat())
            for e in PrivacyLedgerEntry.objects.all()
        ]

    def append(self, entry: LedgerEntry) -> None:
        data = asdict(entry)
        data["date"] = datetime.fromisoformat(data["date"])
        PrivacyLedgerEntry.objects.create(**data)


def repository_ledger() -> PrivacyLedger:
    """The ledger every DP release of the central repository is charged to."""
    total = Budget(epsilon=settings.CTDC_DP_EPSILON_BUDGET, delta=settings.CTDC_DP_DELTA_BUDGET)
    return PrivacyLedger(total=total, store=DatabaseLedgerStore())
