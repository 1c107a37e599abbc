"""The privacy-budget ledger of the central repository, stored in the database (one row per DP computation).

`ctdc.privacy.ledger.PrivacyLedger` does the accounting; this module only gives it a store every web process and
worker shares, and the configured total budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction

from ctdc.privacy.ledger import Budget, LedgerEntry, PrivacyLedger
from ctdc.web.releases.models import PrivacyLedgerEntry

# Key of the PostgreSQL advisory lock that serialises ledger charges (any constant no other lock uses).
LEDGER_LOCK_KEY = 0x63746463  # "ctdc"


class DatabaseLedgerStore:
    """`LedgerStore` over the `PrivacyLedgerEntry` table."""

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One charge at a time across every process: a transaction holding PostgreSQL's advisory lock (released at
        commit), or on SQLite a transaction begun IMMEDIATE (the settings' transaction mode), which takes the
        database's write lock at BEGIN."""
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LEDGER_LOCK_KEY])
            yield

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
