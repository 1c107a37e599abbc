"""Every DP release is charged to the repository's privacy-budget ledger; overspending is refused."""

import pytest

from ctdc.errors import InvalidPrivacyParameter
from ctdc.web.releases.models import PrivacyLedgerEntry, Release
from ctdc.web.releases.services import release_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def repository(run_cli, simulated):
    folder, _ = simulated
    run_cli("org", "create", "open-roads", "--name", "Open Roads")
    assert run_cli("ingest", str(folder / "open-roads.csv"), "--org", "open-roads", "--approve").exit_code == 0


def test_a_dp_release_is_charged_and_one_that_would_overspend_is_refused(repository, settings):
    settings.CTDC_DP_EPSILON_BUDGET = 5.0
    first = release_build(method="dp-synthetic", epsilon=4.0, publish=True)
    entry = PrivacyLedgerEntry.objects.get()
    assert entry.dataset == "victims" and entry.epsilon == pytest.approx(4.0) and 0 < entry.delta < 1e-3
    assert first.version in entry.purpose
    # Refused before it is even queued: 4 is more than the budget left (the ledger would refuse it again at run time).
    with pytest.raises(InvalidPrivacyParameter, match="more than the 1 left"):
        release_build(method="dp-synthetic", epsilon=4.0, publish=True)
    assert PrivacyLedgerEntry.objects.count() == 1
    assert list(Release.objects.values_list("version", flat=True)) == [first.version]
    # Methods that spend no DP budget are not affected.
    release_build(method="k-anonymity", publish=True)
    assert PrivacyLedgerEntry.objects.count() == 1


def test_a_refusal_for_delta_says_delta(repository, settings):
    settings.CTDC_DP_DELTA_BUDGET = 1e-8  # below the default delta, 1/(N ln N) = 7.2e-8 for N = 1,000,000
    # Refused before it is queued (the ledger would refuse it again at run time, with "asks for delta").
    with pytest.raises(InvalidPrivacyParameter, match="default delta 7.24e-08 is more than the 1e-08 left"):
        release_build(method="dp-synthetic", epsilon=1.0)
    assert not PrivacyLedgerEntry.objects.exists()
