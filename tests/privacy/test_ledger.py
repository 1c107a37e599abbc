"""The privacy-budget ledger never lets spending exceed the budget."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctdc.errors import BudgetExceeded, InvalidPrivacyParameter
from ctdc.privacy.ledger import Budget, JsonLinesStore, PrivacyLedger


@given(
    charges=st.lists(
        st.tuples(st.sampled_from(["victims", "perpetrators"]), st.floats(0, 3), st.floats(0, 1e-6)),
        max_size=30,
    )
)
def test_spending_never_exceeds_the_budget_whatever_the_sequence_of_charges(charges):
    ledger = PrivacyLedger(total=Budget(epsilon=5.0, delta=2e-6))
    for dataset, eps, delta in charges:
        before = ledger.spent(dataset)
        try:
            ledger.charge(dataset=dataset, purpose="test", budget=Budget(eps, delta))
        except BudgetExceeded as exc:
            assert exc.extra["dataset"] == dataset
            assert ledger.spent(dataset) == before  # a refused charge records nothing
        spent = ledger.spent(dataset)
        assert spent.epsilon <= 5.0 + 1e-9 and spent.delta <= 2e-6 + 1e-9


def test_the_json_lines_store_persists_entries_and_a_new_ledger_sees_them(tmp_path):
    path = tmp_path / "ledger.jsonl"
    first = PrivacyLedger(total=Budget(4.0, 1e-6), store=JsonLinesStore(path))
    first.charge(dataset="victims", purpose="release 2026.11.1", budget=Budget(3.0, 5e-7, rho=0.2))
    second = PrivacyLedger(total=Budget(4.0, 1e-6), store=JsonLinesStore(path))
    assert second.spent("victims") == Budget(3.0, 5e-7)
    with pytest.raises(BudgetExceeded, match="Nothing was released"):
        second.charge(dataset="victims", purpose="again", budget=Budget(2.0, 0.0))
    assert len(path.read_text().splitlines()) == 1


def test_a_budget_is_a_named_pair_with_valid_values():
    with pytest.raises(InvalidPrivacyParameter):
        Budget(epsilon=-1.0)
    with pytest.raises(InvalidPrivacyParameter):
        Budget(epsilon=1.0, delta=1.5)
