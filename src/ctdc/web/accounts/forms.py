"""Forms of the account pages. They check input only; services do the work."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from ctdc.web.accounts.services import username_available


class InvitationForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=None, empty_label=None,
                                          help_text=_("The organisation the person will contribute for."))
    username = forms.CharField(label=_("User name"), max_length=150, validators=[UnicodeUsernameValidator()],
                               help_text=_("What they will sign in with: letters, digits and @ . + - _ only."))
    email = forms.EmailField(label=_("Email address"), help_text=_("The invitation link is sent there."))

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations

    def clean_username(self):
        username = self.cleaned_data["username"]
        if not username_available(username=username):
            raise forms.ValidationError(_("This user name is taken, or reserved by a pending invitation."))
        return username


class AcceptForm(forms.Form):
    password1 = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}), help_text=password_validation.password_validators_help_text_html())
    password2 = forms.CharField(label="Password again", strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, username: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.username = username

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1:
            from django.contrib.auth import get_user_model

            try:
                password_validation.validate_password(p1, get_user_model()(username=self.username))
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("What the token is for, e.g. “nightly upload from our case system”."))
    scopes = forms.MultipleChoiceField(label=_("Scopes"), widget=forms.CheckboxSelectMultiple,
                                       choices=[("read", _("Read: list and follow your organisations' submissions")),
                                                ("submit", _("Submit: upload files"))])
    days = forms.IntegerField(label=_("Days until it expires"), min_value=1, max_value=366)


class OneTimeCodeForm(forms.Form):
    code = forms.RegexField(label=_("Code from your authenticator app"), regex=r"^\s*\d{6}\s*$",
                            error_messages={"invalid": _("Enter the 6 digits your app shows.")},
                            widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))


class AgreementForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=None, empty_label=None)
    version = forms.CharField(label=_("Version of the agreement"), max_length=32,
                              help_text=_("As printed on the signed text, e.g. “2026-1”."))
    signed_by = forms.CharField(label=_("Signed by"), max_length=200,
                                help_text=_("Who signed for the organisation: name and role."))
    signed_on = forms.DateField(label=_("Signed on"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
