"""The authorization matrix (issue 16): every URL pattern × every role × own/other organisation × method.

The patterns are read from the URL conf when the tests are collected, so a new page or API endpoint is in the
matrix at once; without a rule in `ctdc.web.security.access.RULES` its case fails. For each pattern the expected
status of every request follows from its rule:

- a method the rule does not list: 405, for everyone;
- a role the rule does not admit: a page sends a signed-out visitor to sign in (302 to the sign-in page) and
  answers 403 to a signed-in user; the API answers 401 without a valid token, 403 otherwise;
- an admitted role on an organisation-scoped URL naming another organisation's object: 404 for a contributor;
  stewards and administrators reach it. Another person's API token: 404 for everyone;
- an admitted role otherwise: the view runs — not refused (no 401/403/405, no redirect to sign in), no server
  error, and never 404 for the user's own object. Past the rule, the admin site applies its own per-model
  permissions and methods (a steward may not add users, say): 403 and 405 from it are its own.

Requests are made by real users of a real database holding real objects (uploads through the upload service,
saved mappings, invitations, API tokens), one organisation the contributor belongs to and one it does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch

from ctdc.web.accounts.models import Membership
from ctdc.web.accounts.services import invitation_create
from ctdc.web.accounts.tokens import api_token_create
from ctdc.web.security.access import RULES, Rule, rule_for
from ctdc.web.submissions import services
from tests.conftest import DATA
from tests.web.intake import make_people

ROLES = ("public", "contributor", "steward", "administrator")
METHODS = ("GET", "POST", "PUT", "DELETE")


@dataclass(frozen=True)
class Pattern:
    route: str          # the pattern as written, prefixes included
    view_name: str      # namespace:name, as request.resolver_match.view_name gives it
    name: str | None    # None for an unnamed pattern (reached by its route)
    params: tuple[str, ...]


def _walk(resolver: URLResolver, prefix: str = "", namespaces: tuple[str, ...] = ()):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p, prefix + str(p.pattern), namespaces + ((p.namespace,) if p.namespace else ()))
        elif isinstance(p, URLPattern):
            name = p.name or f"{p.callback.__module__}.{p.callback.__qualname__}"
            params = tuple(re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", prefix + str(p.pattern)))
            yield Pattern(prefix + str(p.pattern), ":".join((*namespaces, name)), p.name,
                          tuple(a or b for a, b in params))


def url_patterns() -> list[Pattern]:
    seen, out = set(), []
    for p in _walk(get_resolver()):
        if (p.route, p.view_name) not in seen:  # ninja lists a path once per method
            seen.add((p.route, p.view_name))
            out.append(p)
    return out


PATTERNS = url_patterns()


def test_every_url_pattern_has_an_access_rule():
    missing = sorted({p.view_name for p in PATTERNS if rule_for(p.view_name) is None})
    assert missing == [], f"Declare who may use these in ctdc.web.security.access.RULES: {missing}"


def test_every_rule_names_a_url_pattern():
    names = {p.view_name for p in PATTERNS}
    namespaces = {n.rpartition(":")[0] for n in names}
    stale = [k for k in RULES if (k.endswith(":*") and k[:-2] not in namespaces) or (not k.endswith(":*")
                                                                                       and k not in names)]
    assert stale == []


# --- the world ------------------------------------------------------------------------------------------------
OWN, OTHER = "lakeside-helpline", "harbour-light"


@pytest.fixture
def world(db):
    people = make_people()
    admin = people["steward"].__class__.objects.create_superuser("admin", password="x" * 16)
    people["administrator"] = admin
    people["contributor"] = people[OWN]
    objects: dict[str, dict[str, object]] = {}
    for slug in (OWN, OTHER):
        org = Membership.objects.get(user=people[slug]).organisation
        text = (DATA / "small.mapping.yml").read_text()
        mapping, _ = services.mapping_save(organisation=org, name="small", text=text, user=people[slug])
        upload = SimpleUploadedFile(f"{slug}.csv", (DATA / "ngo-simple.csv").read_bytes(), "text/csv")
        submission = services.submission_upload(organisation=org, upload=upload, dataset="victims",
                                                mapping_choice="mapping:small", user=people[slug]).submission
        _, key = api_token_create(user=people[slug], name="matrix", scopes=["read", "submit"])
        token = people[slug].api_tokens.get()
        objects[slug] = {"submission": submission.pk, "mapping": mapping.pk, "organisation": org.slug,
                         "api_token": token.pk, "key": key}
    for role in ("steward", "administrator"):
        token, objects[f"{role}-key"] = api_token_create(user=people[role], name="matrix", scopes=["read", "submit"])
        objects[f"{role}-token"] = token.pk
    invitation, _ = invitation_create(organisation=Membership.objects.get(user=people[OWN]).organisation,
                                      username="newcomer", email="newcomer@example.org", invited_by=people["steward"],
                                      accept_url="http://testserver/accounts/invitation/{token}/")
    return {"people": people, "objects": objects, "invitation": invitation.pk}


# Sample values for URL parameters that name no organisation's object.
SAMPLES = {"dim": "gender", "fmt_": "csv", "iso": "PHL", "code": "fr", "dataset": "victims", "version": "2026.01.1",
           "name": "data.csv", "fmt": "csv", "field": "gender", "token": "not-a-token", "app_label": "accounts",
           "object_id": "1", "content_type_id": "1", "url": "nowhere/", "pk": "999999", "slug": "nowhere",
           "submission_id": "999999", "id": "1", "rest": "explore/"}
SCOPED_PARAM = {"submission": ("pk", "submission_id"), "mapping": ("pk",), "organisation": ("slug",),
                "api_token": ("pk",)}


def _url(pattern: Pattern, values: dict[str, str]) -> str:
    if pattern.name is not None:
        try:
            return reverse(pattern.view_name, kwargs={k: values[k] for k in pattern.params})
        except NoReverseMatch:
            pass
    # Unnamed or regex patterns the samples do not fit (the admin's catch-all): the route with each group filled.
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m.group(1)], pattern.route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], route)
    return "/" + route.replace("^", "").replace("$", "").replace("\\", "")


def _values(pattern: Pattern, rule: Rule, world, whose: str, role: str) -> dict[str, str]:
    values = dict(SAMPLES)
    if pattern.view_name == "invitation_withdraw":
        values["pk"] = str(world["invitation"])
    if rule.scope == "api_token":  # a person's own token, or someone else's
        mine = world["objects"][OWN]["api_token"] if role in ("contributor", "public") else \
            world["objects"][f"{role}-token"]
        values["pk"] = str(mine if whose == "own" else world["objects"][OTHER]["api_token"])
    elif rule.scope:
        target = world["objects"][OWN if whose == "own" else OTHER]
        for param in SCOPED_PARAM[rule.scope]:
            values[param] = str(target[rule.scope])
    return values


def _expected_denial(rule: Rule, role: str, method: str, is_api: bool) -> int | str | None:
    """The status a refused request must get, or None when the request is admitted."""
    if method not in rule.methods:
        return 405
    if rule.tokens or rule.is_public or role in rule.roles:
        return None
    if role == "public":
        return 401 if is_api else "sign-in"
    return 403


def _request(client, world, pattern: Pattern, rule: Rule, role: str, method: str, url: str):
    people, headers = world["people"], {}
    client.logout()
    if rule.tokens:
        if role != "public":
            key = world["objects"][OWN]["key"] if role == "contributor" else world["objects"][f"{role}-key"]
            headers["Authorization"] = f"Bearer {key}"
    elif role != "public":
        client.force_login(people[role])
    return client.generic(method, url, headers=headers)


@pytest.mark.parametrize("pattern", PATTERNS, ids=[f"{p.view_name}" for p in PATTERNS])
def test_access_matrix(client, world, pattern: Pattern):
    rule = rule_for(pattern.view_name)
    assert rule is not None, f"No access rule for {pattern.view_name}: declare one in ctdc.web.security.access.RULES"
    is_api = pattern.view_name.startswith("api:")
    wrong: list[str] = []
    for role in ROLES:
        for whose in (("own", "other") if rule.scope else ("-",)):
            url = _url(pattern, _values(pattern, rule, world, whose, role))
            for method in METHODS:
                response = _request(client, world, pattern, rule, role, method, url)
                status = response.status_code
                where = f"{role:13} {whose:5} {method:6} {url} -> {status}"
                denial = _expected_denial(rule, role, method, is_api)
                if rule.tokens and role == "public" and denial is None:
                    denial = 401  # no token
                to_sign_in = status == 302 and response["Location"].startswith(("/accounts/login/",
                                                                                 "/accounts/two-factor/"))
                if status >= 500:
                    wrong.append(f"{where}: server error")
                elif denial == "sign-in":
                    if not (status == 302 and response["Location"].startswith("/accounts/login/")):
                        wrong.append(f"{where}: expected a redirect to sign in")
                elif denial is not None:
                    if status != denial:
                        wrong.append(f"{where}: expected {denial}")
                elif rule.scope and whose == "other" and (role == "contributor" or rule.scope == "api_token"):
                    if status != 404:
                        wrong.append(f"{where}: expected 404 (another organisation's object)")
                elif status in (401, 403, 405) and not (pattern.view_name.startswith("admin:") and status != 401):
                    # (past the rule, the admin site applies its own per-model permissions and methods)
                    wrong.append(f"{where}: admitted by the rule, refused")
                elif to_sign_in:
                    wrong.append(f"{where}: admitted by the rule, sent to sign in")
                elif rule.scope and status == 404:
                    wrong.append(f"{where}: own object not found")
    assert wrong == [], "\n".join(wrong)
