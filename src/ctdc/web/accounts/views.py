"""Account pages: the intake home (`/intake/`), inviting contributors, and accepting an invitation."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ctdc.web.accounts.forms import AcceptForm, InvitationForm
from ctdc.web.accounts.models import Invitation, Organisation
from ctdc.web.accounts.selectors import intake_overview, invitation_list, user_may_invite
from ctdc.web.accounts.services import (
    InvitationError,
    invitation_accept,
    invitation_create,
    invitation_get,
    invitation_revoke,
)

# The link's token is moved from the address into the session on first sight (as Django's password reset does),
# so it is not left in the browser's history or sent on in a Referer header.
SESSION_TOKEN = "ctdc_invitation_token"
TOKEN_PLACEHOLDER = "set-password"


@login_required
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


def _require_inviter(request) -> None:
    if not user_may_invite(user=request.user):
        raise PermissionDenied("Only a data steward or an administrator can invite contributors.")


@login_required
def invitations(request):
    _require_inviter(request)
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


@login_required
@require_POST
def invitation_withdraw(request, pk: int):
    _require_inviter(request)
    invitation = get_object_or_404(Invitation, pk=pk)
    invitation_revoke(invitation=invitation, by=request.user)
    messages.success(request, f"The invitation for {invitation.username} was withdrawn: its link no longer works.")
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
