"""Roles as data (issue 16, item 1): stewards and administrators are global by a database constraint, contributors
belong to an organisation, and the roles a user acts in follow from their memberships."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from ctdc.web.accounts.models import Membership
from ctdc.web.accounts.roles import Role, roles_of
from ctdc.web.submissions.selectors import organisation_list_for
from tests.web.intake import make_people

pytestmark = pytest.mark.django_db


def test_the_database_refuses_a_steward_scoped_to_one_organisation_and_a_contributor_of_none():
    people = make_people()
    org = Membership.objects.get(user=people["open-roads"]).organisation
    nobody = get_user_model().objects.create_user("nobody")
    for role, organisation in (("steward", org), ("administrator", org), ("contributor", None)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Membership.objects.create(user=nobody, organisation=organisation, role=role)
    assert not Membership.objects.filter(user=nobody).exists()


def test_roles_follow_memberships_and_a_contributor_sees_only_its_organisations():
    people = make_people()
    admin = get_user_model().objects.create_superuser("admin", password="x" * 16)
    anonymous = type("Anonymous", (), {"is_authenticated": False})()
    assert roles_of(anonymous) == {Role.PUBLIC}
    assert roles_of(people["open-roads"]) == {Role.PUBLIC, Role.CONTRIBUTOR}
    assert roles_of(people["steward"]) == {Role.PUBLIC, Role.STEWARD}
    assert roles_of(admin) == {Role.PUBLIC, Role.STEWARD, Role.ADMINISTRATOR}
    assert list(organisation_list_for(user=people["open-roads"]).values_list("slug", flat=True)) == ["open-roads"]
    assert organisation_list_for(user=people["steward"]).count() == 3
    # Signed in with no membership at all: no intake role, no organisation.
    nobody = get_user_model().objects.create_user("nobody")
    assert roles_of(nobody) == {Role.PUBLIC} and not organisation_list_for(user=nobody).exists()
