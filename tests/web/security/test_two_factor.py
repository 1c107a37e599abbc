"""Two-factor sign-in for stewards and administrators (issue 16, item 2): with CTDC_REQUIRE_2FA (on in production)
a steward or administrator acts as neither until a one-time code from an authenticator app is given; the first
time, the app is set up on the same page. Contributors are not asked."""

from __future__ import annotations

import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ctdc.web.audit.models import AuditEvent
from tests.web.intake import PASSWORD, make_people

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(settings):
    settings.CTDC_REQUIRE_2FA = True
    # django-otp makes a wrong code wait 2**(failures-1) seconds: off here (no test may depend on the clock), and
    # tested on its own with a wait no test run could outlast.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    return make_people()


def _code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the person's app shows now (or `steps_ahead` steps of 30 s later, within the allowed drift)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def test_production_requires_a_second_factor_and_tests_turn_it_on_explicitly():
    from ctdc.web.config.settings import base

    assert base.CTDC_REQUIRE_2FA is base.PRODUCTION


def test_a_steward_sets_up_an_app_then_must_give_a_code_at_every_sign_in(client, people):
    assert client.post("/accounts/login/", {"username": "steward", "password": PASSWORD}).status_code == 302
    # Signed in with the password only: no steward page, and no steward powers on shared pages.
    refused = client.get("/intake/duplicates/")
    assert refused.status_code == 302 and refused["Location"].startswith("/accounts/two-factor/")
    assert client.get("/data/steward/").status_code == 302
    assert b"Same person across organisations" not in client.get("/intake/submissions/").content
    setup = client.get(refused["Location"])
    assert setup.status_code == 200 and 'id="totp-qr"' in setup.content.decode()
    device = TOTPDevice.objects.get(user=people["steward"], confirmed=False)
    assert setup.context["secret"] and setup.context["qr"].startswith("data:image/svg+xml")

    wrong = client.post("/accounts/two-factor/", {"code": f"{(int(_code(device)) + 1) % 10**6:06d}"})
    assert wrong.status_code == 400 and client.get("/intake/duplicates/").status_code == 302
    ok = client.post("/accounts/two-factor/?next=/intake/duplicates/", {"code": _code(device),
                                                                        "next": "/intake/duplicates/"})
    assert ok.status_code == 302 and ok["Location"] == "/intake/duplicates/"
    assert client.get("/intake/duplicates/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed

    # The next sign-in asks for a code again (no new setup), and a used code does not work twice.
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": "steward", "password": PASSWORD})
    assert client.get("/intake/duplicates/").status_code == 302
    ask = client.get("/accounts/two-factor/")
    assert "totp-qr" not in ask.content.decode() and TOTPDevice.objects.filter(user=people["steward"]).count() == 1
    assert client.post("/accounts/two-factor/", {"code": _code(device)}).status_code == 400  # replayed
    assert client.post("/accounts/two-factor/", {"code": _code(device, steps_ahead=1)}).status_code == 302
    assert client.get("/intake/duplicates/").status_code == 200
    actions = list(AuditEvent.objects.filter(actor="steward").values_list("action", flat=True))
    assert {"auth.second_factor_enrolled", "auth.second_factor", "auth.second_factor_failed"} <= set(actions)


def test_an_administrator_needs_it_too_and_a_contributor_does_not(client, people):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("admin", password=PASSWORD)
    client.post("/accounts/login/", {"username": "admin", "password": PASSWORD})
    for page in ("/accounts/audit/", "/admin/", "/intake/duplicates/"):
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/two-factor/"), page
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": "lakeside-helpline", "password": PASSWORD})
    assert client.get("/intake/submissions/").status_code == 200
    assert client.get("/intake/duplicates/").status_code == 403  # never a steward page, code or not


def test_without_the_requirement_a_steward_works_with_a_password(client, people, settings):
    settings.CTDC_REQUIRE_2FA = False
    client.post("/accounts/login/", {"username": "steward", "password": PASSWORD})
    assert client.get("/intake/duplicates/").status_code == 200


def test_after_a_wrong_code_even_the_right_one_waits(client, people, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 3600
    client.post("/accounts/login/", {"username": "steward", "password": PASSWORD})
    client.get("/accounts/two-factor/")
    device = TOTPDevice.objects.get(user=people["steward"])
    assert client.post("/accounts/two-factor/", {"code": f"{(int(_code(device)) + 1) % 10**6:06d}"}).status_code == 400
    assert client.post("/accounts/two-factor/", {"code": _code(device)}).status_code == 400
    assert client.get("/intake/duplicates/").status_code == 302
