"""Who may use each page and API endpoint: declared here once, enforced by `AccessMiddleware` (issue 16).

Every URL name of `ctdc.web.config.urls` has one `Rule` in `RULES` (a namespace may have one rule for all its names,
`"admin:*"`). A rule says:

    roles    which roles may use it (ctdc.web.accounts.roles): public, contributor, steward, administrator
    methods  which HTTP methods (HEAD goes with GET); any other answers 405
    scope    what organisation-owned object its URL names ("submission", "mapping", "organisation"), or "" when
             it names none. Contributors reach only their own organisations' objects: the views look objects up
             through the selectors of `ctdc.web.submissions.selectors`, which answer 404 for another
             organisation's (its existence is not disclosed). Stewards and administrators reach every object.
    tokens   for API endpoints used by programs: the API-token scope each method needs ("read", "submit"). Such an
             endpoint is used with a token only (`Authorization: Bearer ...`), never with a session cookie.
    cors     other sites' scripts may read its GET answers (`Access-Control-Allow-Origin: *`, no credentials;
             ctdc.web.security.cors). Only public, read-only API endpoints: `public_api()`.

A view without a rule is refused to everyone (fail closed), and `tests/web/security/test_access_matrix.py`, which
requests every URL pattern as every role, for an object of the user's own and of another organisation, with
every method, fails until a rule is declared.

Refusals: a signed-out visitor of a page is sent to sign in (302); a signed-in user without the role gets 403; a
steward or administrator who has not yet given a one-time code (CTDC_REQUIRE_2FA) is sent to the two-factor page;
the API answers 401 (no valid token) or 403 (token without the scope, or user without the role) in its
`{code, message, extra}` shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, JsonResponse

from ctdc.web.accounts.roles import PRIVILEGED, VIA_TOKEN, Role, roles_held, roles_of, second_factor_missing

PUBLIC = frozenset({Role.PUBLIC})
CONTRIBUTORS = frozenset({Role.CONTRIBUTOR, Role.STEWARD, Role.ADMINISTRATOR})
STEWARDS = frozenset({Role.STEWARD, Role.ADMINISTRATOR})
ADMINISTRATORS = frozenset({Role.ADMINISTRATOR})
READ = frozenset({"GET"})
FORM = frozenset({"GET", "POST"})
ACTION = frozenset({"POST"})


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    methods: frozenset[str] = READ
    scope: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    # Checked against the roles held even before a second factor is given: the two-factor page itself.
    held: bool = False
    cors: bool = False

    @property
    def is_public(self) -> bool:
        return Role.PUBLIC in self.roles


def public(methods=READ) -> Rule:
    return Rule(PUBLIC, frozenset(methods))


def public_api() -> Rule:
    """A public, read-only API endpoint that other origins may read (CORS)."""
    return Rule(PUBLIC, READ, cors=True)


def contributors(methods=READ, scope: str = "") -> Rule:
    return Rule(CONTRIBUTORS, frozenset(methods), scope)


def stewards(methods=READ) -> Rule:
    return Rule(STEWARDS, frozenset(methods))


def administrators(methods=READ) -> Rule:
    return Rule(ADMINISTRATORS, frozenset(methods))


def api_token(tokens: dict[str, str], scope: str = "") -> Rule:
    return Rule(CONTRIBUTORS, frozenset(tokens), scope, tokens)


RULES: dict[str, Rule] = {
    # The public portal, releases and codebook
    "home": public(), "explore": public(), "chart-download": public(), "map": public(), "flows-download": public(),
    "country": public(), "perpetrators": public(), "routes": public(), "fees": public(),
    "figures-method": public(), "language": public(), "language-prefix": public(),
    "data-catalogue": public(), "data-terms": public(FORM), "data-latest": public(), "data-latest-file": public(),
    "data-report": public(), "data-file": public(),
    "codebook:index": public(), "codebook:download": public(), "codebook:template": public(),
    "codebook:codelist": public(), "codebook:dataset": public(), "codebook:field": public(),
    "contribute": public(), "contribute-agreement": public(),
    # Signing in and out; accepting an invitation (the link is the credential)
    "login": public(FORM), "logout": public(ACTION), "invitation_accept": public(FORM),
    "two_factor": Rule(CONTRIBUTORS, FORM, held=True),
    # API tokens: each person manages their own
    "api_tokens": contributors(FORM), "api_token_revoke": contributors(ACTION, scope="api_token"),
    # Intake: contributors for their own organisations, stewards for all
    "intake_home": contributors(), "submission_list": contributors(), "submission_new": contributors(FORM),
    "submission_detail": contributors(scope="submission"),
    "submission_progress": contributors(scope="submission"),
    "submission_reprocess": contributors(ACTION, scope="submission"),
    "submission_suggest_mapping": contributors(scope="submission"),
    "submission_report": contributors(scope="submission"),
    "submission_report_csv": contributors(scope="submission"),
    "submission_quarantine_csv": contributors(scope="submission"),
    "submission_report_json": contributors(scope="submission"),
    "mapping_list": contributors(), "mapping_new": contributors(FORM),
    "mapping_edit": contributors(FORM, scope="mapping"),
    "organisation_quality": contributors(scope="organisation"),
    # Stewards: decisions, duplicates, releases, usage, invitations
    "submission_approve": stewards(ACTION), "submission_reject": stewards(ACTION),
    "duplicate_list": stewards(), "duplicate_decide": stewards(ACTION),
    "data-steward": stewards(), "data-steward-action": stewards(ACTION), "data-steward-report": stewards(),
    "steward-usage": stewards(FORM), "steward-usage-csv": stewards(),
    "invitations": stewards(FORM), "invitation_withdraw": stewards(ACTION),
    # Administrators: the audit trail, organisations' data-sharing agreements. The admin site: stewards and administrators, each model then limited by
    # the admin's own permissions (accounts.services.STEWARD_PERMISSIONS).
    "audit_list": administrators(), "audit_csv": administrators(), "agreements": administrators(FORM),
    "admin:*": stewards(FORM),
    # The API: public reads of published releases, and the contributor API (tokens only)
    # (CORS on the public reads: public_api; the interactive docs page is for people, same-origin)
    "api:api-root": public_api(), "api:openapi-json": public_api(), "api:openapi-view": public(),
    "api:releases": public_api(), "api:latest": public_api(), "api:release_detail": public_api(),
    "api:aggregates": public_api(),
    "api:submissions": api_token({"GET": "read", "POST": "submit"}),
    "api:submission": api_token({"GET": "read"}, scope="submission"),
}


def rule_for(view_name: str) -> Rule | None:
    """The rule of a URL name, or of its namespace; None when nothing is declared (the view is then refused)."""
    if view_name in RULES:
        return RULES[view_name]
    namespace = view_name.rpartition(":")[0]
    return RULES.get(f"{namespace}:*") if namespace else None


def _api_error(status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse({"code": code, "message": message, "extra": {}}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="ctdc"'
    return response


class AccessMiddleware:
    """Applies `RULES` before any view runs (after authentication and django-otp's OTPMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from ctdc.web.audit.services import actor_reset, actor_set

        token = actor_set(getattr(request, "user", None))
        try:
            return self.get_response(request)
        finally:
            actor_reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        is_api = match.namespace == "api" or match.namespaces[:1] == ["api"]
        rule = rule_for(match.view_name)
        if rule is None:
            if is_api:
                return _api_error(403, "forbidden", "No access rule is declared for this endpoint.")
            raise PermissionDenied("No access rule is declared for this page.")
        method = "GET" if request.method in ("HEAD", "OPTIONS") and "GET" in rule.methods else request.method
        if method not in rule.methods:
            return HttpResponseNotAllowed(sorted(rule.methods))
        if rule.tokens:
            return self._token(request, rule, method)
        if rule.is_public:
            return None
        user = request.user
        if (roles_held(user) if rule.held else roles_of(user)) & rule.roles:
            return None
        if not user.is_authenticated:
            if is_api:
                return _api_error(401, "not-authenticated", "Sign in first.")
            return redirect_to_login(request.get_full_path())
        if second_factor_missing(user) and roles_held(user) & PRIVILEGED & rule.roles:
            return redirect_to_login(request.get_full_path(), login_url="two_factor")
        if is_api:
            return _api_error(403, "forbidden", "Your account may not use this endpoint.")
        raise PermissionDenied("Your account may not use this page.")

    def _token(self, request, rule: Rule, method: str):
        """An endpoint for programs: a valid, unexpired, unrevoked token with the scope this method needs."""
        from ctdc.web.accounts.tokens import TokenRefused, api_token_authenticate
        from ctdc.web.audit.services import actor_set

        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return _api_error(401, "not-authenticated", "Send an API token: `Authorization: Bearer <token>` "
                                                        "(create one on /accounts/tokens/ or with `ctdc token create`).")
        try:
            token = api_token_authenticate(key=key.strip(), scope=rule.tokens[method], request=request)
        except TokenRefused as exc:
            return _api_error(exc.status, exc.code, exc.message)
        setattr(token.user, VIA_TOKEN, True)
        if not roles_of(token.user) & rule.roles:
            return _api_error(403, "forbidden", "The token's account may not use this endpoint.")
        request.user = token.user
        request.api_token = token
        actor_set(token.user)  # reset with the request's own in __call__
        return None


def view_name_rules_missing(view_names) -> list[str]:
    """The URL names without a rule (the access-matrix test lists them)."""
    return sorted(n for n in view_names if rule_for(n) is None)
