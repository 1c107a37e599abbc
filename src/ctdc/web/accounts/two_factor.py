"""Two-factor sign-in with a time-based one-time code (TOTP, RFC 6238) through django-otp (issue 16).

Stewards and administrators must give a code after their password when CTDC_REQUIRE_2FA is on (by default in
production); until then they act with no steward or administrator role (ctdc.web.accounts.roles). A first visit
sets up an authenticator app: a new device is kept unconfirmed until the person enters a code it made. The secret
is stored in the database as django-otp stores it; django-otp also slows down repeated wrong codes.
"""

from __future__ import annotations

import base64
from binascii import unhexlify

import segno
from django.db import transaction
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from ctdc.web.audit.services import audit_record

DEVICE_NAME = "authenticator app"


def totp_device_confirmed(*, user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


@transaction.atomic
def totp_device_pending(*, user) -> TOTPDevice:
    """The device being set up for `user` (made once, kept until confirmed, so a reload shows the same secret)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def totp_secret(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it when typed (base32)."""
    return base64.b32encode(unhexlify(device.key)).decode().rstrip("=")


def totp_qr_svg(device: TOTPDevice) -> str:
    """The setup link as a QR code, an SVG data URI (the page's CSP allows data: images only)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=4)


@transaction.atomic
def totp_verify(*, request, code: str) -> bool:
    """Check `code` against the user's device (confirming a device being set up); on success the session counts as
    verified. Both outcomes go into the audit trail."""
    user = request.user
    device = totp_device_confirmed(user=user) or TOTPDevice.objects.filter(user=user, confirmed=False).first()
    code = code.strip()
    ok = device is not None and device.verify_is_allowed()[0] and device.verify_token(code)
    if not ok:
        audit_record(actor=user, action="auth.second_factor_failed", target_type="user", target_id=user.pk)
        return False
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        audit_record(actor=user, action="auth.second_factor_enrolled", target_type="user", target_id=user.pk)
    otp_login(request, device)
    audit_record(actor=user, action="auth.second_factor", target_type="user", target_id=user.pk)
    return True
