"""The two-factor and API-token pages in Chromium (issue 16): a steward signs in, is sent to set up an authenticator
app (the QR code shows under the site's CSP), gives a code and reaches the steward pages; then makes an API token,
sees it once, uses it, and revokes it. Both pages pass axe-core; screenshots in var/screenshots/."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ctdc.web.accounts.models import ApiToken
from tests.web.browser import SHOTS, chromium_page
from tests.web.intake import PASSWORD, make_people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js"


def _axe(page) -> list[str]:
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    return page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                         ".filter(v => ['serious', 'critical'].includes(v.impact))"
                         ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))")


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():06d}"


def test_a_steward_sets_up_two_factor_then_makes_uses_and_revokes_an_api_token(live_server, settings):
    settings.CTDC_REQUIRE_2FA = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    make_people()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(live_server.url + "/intake/duplicates/")
        page.fill("#id_username", "steward")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/accounts/two-factor/**")
        assert page.evaluate("document.querySelector('#totp-qr').naturalWidth") > 100  # the QR code is drawn
        assert _axe(page) == []
        page.screenshot(path=str(SHOTS / "account-two-factor.png"), full_page=True)
        device = TOTPDevice.objects.get(user__username="steward")
        page.fill("#id_code", _code(device))
        page.click("#verify")
        page.wait_for_url("**/intake/duplicates/")
        assert page.locator("h1").first.inner_text()

        page.goto(live_server.url + "/accounts/tokens/")
        page.fill("#id_name", "nightly upload")
        page.check("input[name=scopes][value=submit]")
        page.click("#create-token")
        page.wait_for_selector("#token-created")
        key = page.input_value("#token-key")
        assert key.startswith("ctdc_") and ApiToken.objects.get().prefix == key[:12]
        assert _axe(page) == []
        page.screenshot(path=str(SHOTS / "account-tokens.png"), full_page=True)
        answer = page.request.get(live_server.url + "/api/v1/submissions", headers={"Authorization": f"Bearer {key}"})
        assert answer.status == 200 and answer.json()["count"] == 0
        page.goto(live_server.url + "/accounts/tokens/")
        assert key not in page.content()  # shown once
        page.click("#tokens button[type=submit]")
        page.wait_for_selector("text=was revoked")
        answer = page.request.get(live_server.url + "/api/v1/submissions", headers={"Authorization": f"Bearer {key}"})
        assert answer.status == 401
        assert errors == []
