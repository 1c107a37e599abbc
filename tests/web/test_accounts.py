"""Accounts in the browser: stewards invite contributors (single-use, expiring links; only a hash stored), the
intake home at /intake/, and a steward's admin."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from ctdc.web.accounts.models import Invitation, Membership, Organisation
from ctdc.web.accounts.services import InvitationError, invitation_accept, steward_ensure
from tests.web.intake import PASSWORD, make_people

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a long enough demo passphrase"


@pytest.fixture
def people():
    return make_people()


def _invite(client, org_slug: str = "open-roads", username: str = "nadia", email: str = "nadia@open-roads.example"):
    org = Organisation.objects.get(slug=org_slug)
    response = client.post("/accounts/invitations/", {"organisation": org.pk, "username": username, "email": email})
    assert response.status_code == 200
    html = response.content.decode()
    match = re.search(r'id="invitation-link" value="(http://testserver/accounts/invitation/([^/"]+)/)"', html)
    return match, html


def test_a_steward_invites_and_the_contributor_sets_a_password_and_lands_on_their_intake(
        client, people, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(people["steward"])
    with django_capture_on_commit_callbacks(execute=True):  # the mail leaves once the invitation is committed
        match, html = _invite(client)
    assert match, html
    link, token = match.groups()
    invitation = Invitation.objects.get()
    # Only the token's hash is at rest; the token appears in no column.
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(list(Invitation.objects.values_list()))
    assert invitation.invited_by == people["steward"] and invitation.expires_at > timezone.now() + timedelta(days=6)
    assert len(mailoutbox) == 1 and link in mailoutbox[0].body and mailoutbox[0].to == ["nadia@open-roads.example"]
    # The list shows the invitation, never the link again.
    listing = client.get("/accounts/invitations/").content.decode()
    assert "nadia" in listing and token not in listing

    client.logout()
    first = client.get(f"/accounts/invitation/{token}/")
    assert first.status_code == 302 and token not in first["Location"]  # out of the address bar and Referer
    page = client.get(first["Location"]).content.decode()
    assert 'id="invited-username">nadia<' in page and "Open Roads" in page
    assert "differ" in client.post(first["Location"], {"password1": NEW_PASSWORD, "password2": "other"}).content.decode()
    short = client.post(first["Location"], {"password1": "short", "password2": "short"}).content.decode()
    assert "too short" in short
    assert not get_user_model().objects.filter(username="nadia").exists()

    done = client.post(first["Location"], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/intake/"
    home = client.get("/intake/").content.decode()
    assert "Open Roads" in home and "Harbour Light" not in home and "Lakeside" not in home
    user = get_user_model().objects.get(username="nadia")
    assert Membership.objects.filter(user=user, organisation__slug="open-roads", role="contributor").exists()
    assert not user.is_staff

    client.logout()
    assert client.login(username="nadia", password=NEW_PASSWORD)
    client.logout()
    again = client.get(client.get(f"/accounts/invitation/{token}/")["Location"])
    assert again.status_code == 410 and "already used" in again.content.decode()


def test_an_expired_a_withdrawn_and_an_unknown_link_are_refused_with_what_to_do(client, people):
    client.force_login(people["steward"])
    _, token_a = _invite(client, username="amal")[0].groups()
    _, token_b = _invite(client, username="bruno")[0].groups()
    Invitation.objects.filter(username="amal").update(expires_at=timezone.now() - timedelta(minutes=1))
    withdraw = client.post(f"/accounts/invitations/{Invitation.objects.get(username='bruno').pk}/withdraw/")
    assert withdraw.status_code == 302
    client.logout()
    for token, status, words in ((token_a, 410, "expired"), (token_b, 410, "withdrawn"),
                                 ("not-a-real-token", 404, "not valid")):
        page = client.get(client.get(f"/accounts/invitation/{token}/")["Location"])
        assert page.status_code == status and words in page.content.decode() and "steward" in page.content.decode()
    with pytest.raises(InvitationError):
        invitation_accept(token=token_a, password=NEW_PASSWORD)
    assert not get_user_model().objects.filter(username__in=["amal", "bruno"]).exists()


def test_a_link_works_once_even_when_used_twice(client, people):
    client.force_login(people["steward"])
    _, token = _invite(client, username="chen")[0].groups()
    invitation_accept(token=token, password=NEW_PASSWORD)
    with pytest.raises(InvitationError) as exc:
        invitation_accept(token=token, password="another long passphrase")
    assert exc.value.extra["reason"] == "used"
    assert get_user_model().objects.get(username="chen").check_password(NEW_PASSWORD)


def test_only_stewards_and_administrators_invite_and_names_are_not_reused(client, people):
    assert client.get("/accounts/invitations/").status_code == 302  # anonymous: to the sign-in page
    client.force_login(people["open-roads"])
    assert client.get("/accounts/invitations/").status_code == 403
    org = Organisation.objects.get(slug="open-roads")
    assert client.post("/accounts/invitations/", {"organisation": org.pk, "username": "mallory",
                                                  "email": "m@example.org"}).status_code == 403
    assert not Invitation.objects.exists()
    admin = get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    client.force_login(admin)
    match, html = _invite(client, username="open-roads")  # an existing account's name
    assert match is None and "taken" in html
    assert _invite(client, username="dara")[0] is not None
    assert "taken" in _invite(client, username="DARA")[1]  # reserved by the pending invitation


def test_intake_is_a_page_for_contributors_and_stewards(client, people):
    assert client.get("/intake/").status_code == 302
    client.force_login(people["lakeside-helpline"])
    page = client.get("/intake/").content.decode()
    assert "Lakeside Helpline" in page and "Open Roads" not in page and "Waiting for you" not in page
    client.force_login(people["steward"])
    page = client.get("/intake/").content.decode()
    assert "Waiting for you" in page and "Invite a contributor" in page and "Open Roads" in page


def test_a_steward_made_by_the_cli_can_use_the_admin_for_organisations_but_not_for_users_or_stewards(client, people):
    steward, _ = steward_ensure(username="chief", password=PASSWORD)
    client.force_login(steward)
    index = client.get("/admin/").content.decode()
    assert "have permission to view or edit anything" not in index
    assert "Organisations" in index and "Memberships" in index and "Invitations" in index
    assert client.get("/admin/auth/user/").status_code == 403
    assert client.get("/admin/auth/group/").status_code == 403
    # No pre-filled membership row: an untouched one made the form demand a user (seen in the story test).
    assert 'name="memberships-TOTAL_FORMS" value="0"' in client.get("/admin/accounts/organisation/add/").content.decode()
    added = client.post("/admin/accounts/organisation/add/", {
        "slug": "river-bend", "name": "River Bend Shelter (fictional)", "kind": "case_management",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"})
    assert added.status_code == 302 and Organisation.objects.filter(slug="river-bend").exists()
    form = client.get("/admin/accounts/membership/add/").content.decode()
    assert 'value="contributor"' in form and 'value="steward"' not in form
    # A steward cannot make anyone a steward: the role is checked on the server, not only hidden in the form.
    nobody = get_user_model().objects.create_user("nobody", password=PASSWORD)
    client.post("/admin/accounts/membership/add/", {"user": nobody.pk, "organisation": "", "role": "steward"})
    assert not Membership.objects.filter(user=nobody, role="steward").exists()
    listing = client.get("/admin/accounts/membership/").content.decode()
    users = set(re.findall(r'<th class="field-user[^"]*"><a href="[^"]+">([^<]+)</a>', listing))
    assert users == {"lakeside-helpline", "harbour-light", "open-roads"}  # stewards' memberships are not theirs
