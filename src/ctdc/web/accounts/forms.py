"""Forms of the account pages. They check input only; services do the work."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator

from ctdc.web.accounts.services import username_available


class InvitationForm(forms.Form):
    organisation = forms.ModelChoiceField(queryset=None, empty_label=None,
                                          help_text="The organisation the person will contribute for.")
    username = forms.CharField(label="User name", max_length=150, validators=[UnicodeUsernameValidator()],
                               help_text="What they will sign in with: letters, digits and @ . + - _ only.")
    email = forms.EmailField(label="Email address", help_text="The invitation link is sent there.")

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations

    def clean_username(self):
        username = self.cleaned_data["username"]
        if not username_available(username=username):
            raise forms.ValidationError("This user name is taken, or reserved by a pending invitation.")
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
