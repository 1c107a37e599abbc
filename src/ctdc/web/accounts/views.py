"""Account pages: the intake home (`/intake/`), inviting contributors, accepting an invitation, one's API tokens,
organisations' data-sharing agreements, and the two-factor step of stewards and administrators. Who may open each: ctdc.web.security.access.RULES."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from ctdc.web.accounts.forms import AcceptForm, AgreementForm, ApiTokenForm, InvitationForm, OneTimeCodeForm
from ctdc.web.accounts.models import Invitation, Organisation
from ctdc.web.accounts.selectors import (
    agreement_list,
    agreement_overview,
    intake_overview,
    invitation_list,
    user_may_invite,
)
from ctdc.web.accounts.services import (
    InvitationError,
    OrganisationError,
    agreement_record,
    invitation_accept,
    invitation_create,
    invitation_get,
    invitation_revoke,
)
from ctdc.web.accounts.tokens import TokenError, api_token_create, api_token_list
from ctdc.web.accounts.tokens import api_token_revoke as api_token_revoke_service
from ctdc.web.accounts.two_factor import (
    totp_device_confirmed,
    totp_device_pending,
    totp_qr_svg,
    totp_secret,
    totp_verify,
)

# The link's token is moved from the address into the session on first sight (as Django's password reset does),
# so it is not left in the browser's history or sent on in a Referer header.
SESSION_TOKEN = "ctdc_invitation_token"
TOKEN_PLACEHOLDER = "set-password"


def intake_home(request):
    """Where people land after signing in: their organisations' intake pages, and a steward's to-do list."""
    from ctdc.web.submissions.models import DuplicateFlag, Submission
    from ctdc.web.submissions.selectors import organisation_list_for, user_is_steward

    steward = user_is_steward(user=request.user)
    organisations = organisation_list_for(user=request.user)
    context = {"overview": intake_overview(organisations=organisations), "is_steward": steward,
               "may_invite": user_may_invite(user=request.user)}
    if steward:
        context["to_decide"] = Submission.objects.filter(status=Submission.Status.VALIDATED).count()
        context["open_flags"] = DuplicateFlag.objects.filter(status=DuplicateFlag.Status.OPEN).count()
    return render(request, "accounts/intake_home.html", context)


def invitations(request):
    form = InvitationForm(request.POST or None, organisations=Organisation.objects.all())
    created = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        accept_url = request.build_absolute_uri(reverse("invitation_accept", args=["TOKEN"])).replace(
            "TOKEN", "{token}")
        try:
            invitation, token = invitation_create(organisation=d["organisation"], username=d["username"],
                                                  email=d["email"], invited_by=request.user, accept_url=accept_url)
        except InvitationError as exc:
            form.add_error("username", exc.message)
        else:
            # Shown in this response only: the token is not stored, so no later page can show it again.
            created = {"invitation": invitation, "link": accept_url.format(token=token)}
            form = InvitationForm(organisations=Organisation.objects.all())
    return render(request, "accounts/invitations.html", {
        "form": form, "created": created, "invitations": invitation_list(), "now": timezone.now(),
        "days": settings.CTDC_INVITATION_DAYS})


def agreements(request):
    """Administrators record the data-sharing agreement each organisation signed (issue 16); every organisation's
    current one, and those without one (files from them are refused when CTDC_REQUIRE_AGREEMENT is on)."""
    form = AgreementForm(request.POST or None, organisations=Organisation.objects.all(),
                         initial={"signed_on": timezone.localdate(), "organisation": request.GET.get("organisation")})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            agreement = agreement_record(organisation=d["organisation"], version=d["version"],
                                         signed_by=d["signed_by"], signed_on=d["signed_on"], recorded_by=request.user)
        except OrganisationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Agreement %(version)s of %(organisation)s recorded: it is the "
                                        "organisation's current agreement.")
                             % {"version": agreement.version, "organisation": agreement.organisation.name})
            return redirect("agreements")
    return render(request, "accounts/agreements.html", {
        "form": form, "overview": agreement_overview(), "agreements": agreement_list(),
        "required": settings.CTDC_REQUIRE_AGREEMENT})


def invitation_withdraw(request, pk: int):
    invitation = get_object_or_404(Invitation, pk=pk)
    invitation_revoke(invitation=invitation, by=request.user)
    messages.success(request, _("The invitation for %(username)s was withdrawn: its link no longer works.")
                     % {"username": invitation.username})
    return redirect("invitations")


def invitation_accept_page(request, token: str):
    if token != TOKEN_PLACEHOLDER:
        request.session[SESSION_TOKEN] = token
        return redirect("invitation_accept", token=TOKEN_PLACEHOLDER)
    token = request.session.get(SESSION_TOKEN, "")
    try:
        invitation = invitation_get(token=token)
    except InvitationError as exc:
        return render(request, "accounts/invitation_invalid.html", {"message": exc.message}, status=410
                      if exc.extra.get("reason") in ("used", "expired", "revoked") else 404)
    form = AcceptForm(request.POST or None, username=invitation.username)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(token=token, password=form.cleaned_data["password1"])
        except InvitationError as exc:
            return render(request, "accounts/invitation_invalid.html", {"message": exc.message}, status=410)
        request.session.pop(SESSION_TOKEN, None)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome. You contribute for {invitation.organisation.name}; "
                         "upload a file to start.")
        return redirect("intake_home")
    return render(request, "accounts/accept.html", {"form": form, "invitation": invitation})


def api_tokens(request):
    """The signed-in person's API tokens: create one (shown once), see and revoke the others."""
    form = ApiTokenForm(request.POST or None, initial={"days": settings.CTDC_API_TOKEN_DAYS, "scopes": ["read"]})
    created = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            token, key = api_token_create(user=request.user, name=d["name"], scopes=d["scopes"], days=d["days"])
        except TokenError as exc:
            form.add_error(None, exc.message)
        else:
            created = {"token": token, "key": key}  # in this response only: the key is not stored
            form = ApiTokenForm(initial={"days": settings.CTDC_API_TOKEN_DAYS, "scopes": ["read"]})
    return render(request, "accounts/tokens.html", {"form": form, "created": created, "now": timezone.now(),
                                                    "tokens": api_token_list(user=request.user)})


def api_token_revoke(request, pk: int):
    token = get_object_or_404(api_token_list(user=request.user), pk=pk)  # another person's token: 404
    api_token_revoke_service(token=token, by=request.user)
    messages.success(request, _("The token %(prefix)s… was revoked: it no longer works.") % {"prefix": token.prefix})
    return redirect("api_tokens")


def two_factor(request):
    """The second sign-in step of stewards and administrators: set up an authenticator app once, then give a code."""
    device = totp_device_confirmed(user=request.user)
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if totp_verify(request=request, code=form.cleaned_data["code"]):
            next_url = request.POST.get("next") or request.GET.get("next") or ""
            if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
                next_url = reverse("intake_home")
            return redirect(next_url)
        form.add_error("code", _("This code is not right, or was used already. Wait for the next one and try again."))
    pending = None if device else totp_device_pending(user=request.user)
    return render(request, "accounts/two_factor.html", {
        "form": form, "setup": pending is not None, "next": request.GET.get("next", ""),
        "secret": totp_secret(pending) if pending else "", "qr": totp_qr_svg(pending) if pending else "",
    }, status=400 if form.errors else 200)
