"""Ledger charges are atomic (issue 16, item 8): two processes charging at once can never overspend the budget.

Deterministic, not a race left to chance: this test holds the ledger's lock while two `ctdc`-configured processes
each try to charge epsilon 10 of a total of 15. On PostgreSQL it waits until both are seen queued on the advisory
lock (pg_locks), then lets go: one charge passes, the other is refused, and one entry is written. On SQLite the
lock is the database's write lock (transactions begin IMMEDIATE); the outcome is asserted the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings
from django.db import connection

from ctdc.web.releases.ledger import LEDGER_LOCK_KEY, DatabaseLedgerStore
from ctdc.web.releases.models import PrivacyLedgerEntry
from tests.cli.processes import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

CHARGE = textwrap.dedent("""
    import json, sys
    from ctdc.cli.common import setup_django
    setup_django()
    from ctdc.errors import BudgetExceeded
    from ctdc.privacy.budget import Budget
    from ctdc.web.releases.ledger import repository_ledger
    try:
        repository_ledger().charge(dataset="victims", purpose=sys.argv[1], budget=Budget(epsilon=10.0, delta=0.0))
        print(json.dumps("charged"))
    except BudgetExceeded:
        print(json.dumps("refused"))
""")


def _env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    url = (f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}" if connection.vendor == "postgresql"
           else f"sqlite:///{db['NAME']}")
    return {**os.environ, "DATABASE_URL": url, "CTDC_DATA_DIR": str(settings.DATA_DIR),
            "DJANGO_SETTINGS_MODULE": "ctdc.web.config.settings.base", "CTDC_DEMO": "true",
            "CTDC_DP_EPSILON_BUDGET": "15"}


def _waiting_on_the_ledger_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = %s",
                       [LEDGER_LOCK_KEY])
        return cursor.fetchone()[0]


def test_two_processes_charging_at_once_never_overspend_the_budget():
    with DatabaseLedgerStore().locked():
        processes = [subprocess.Popen([sys.executable, "-c", CHARGE, f"build {i}"], env=_env(),
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in (1, 2)]
        if connection.vendor == "postgresql":
            wait_for(lambda: _waiting_on_the_ledger_lock() == 2, "both processes to queue on the ledger lock")
    outcomes = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        outcomes.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(outcomes) == ["charged", "refused"]
    assert list(PrivacyLedgerEntry.objects.values_list("epsilon", flat=True)) == [10.0]
