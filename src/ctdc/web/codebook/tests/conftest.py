import pytest
from django.test import modify_settings, override_settings


@pytest.fixture(autouse=True)
def _codebook_mounted():
    """Mount the app at /codebook/ whatever settings run the tests (its own minimal ones or the project's)."""
    with (
        modify_settings(INSTALLED_APPS={"append": "ctdc.web.codebook"}),
        override_settings(ROOT_URLCONF="ctdc.web.codebook.tests.urls"),
    ):
        yield
