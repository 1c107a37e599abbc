"""Forms of the steward's releases page. Every parameter is checked on the server, whatever the browser allowed:
a field left empty takes its default, a field given is used as given or refused with its error beside it."""

from __future__ import annotations

from django import forms
from django.conf import settings

from ctdc.errors import InvalidPrivacyParameter
from ctdc.release.methods import METHODS
from ctdc.release.params import DP_METHODS, K_MAX, K_MIN, LENGTH_MAX, LENGTH_MIN, SEED_MAX, check_build_params
from ctdc.web.releases.ledger import repository_ledger

# Dataset types a release can be built from (the harmonized store holds victims only, for now).
RELEASABLE = (("victims", "Victims"),)


class BuildForm(forms.Form):
    dataset = forms.ChoiceField(choices=RELEASABLE, initial="victims", widget=forms.HiddenInput)
    method = forms.ChoiceField(choices=[(m, m) for m in sorted(METHODS)], initial="k-anonymity")
    k = forms.IntegerField(required=False, min_value=K_MIN, max_value=K_MAX, label="k",
                           help_text=f"At least {K_MIN}; empty: the deployment's k ({settings.CTDC_SUPPRESSION_K}).")
    length = forms.IntegerField(required=False, min_value=LENGTH_MIN, max_value=LENGTH_MAX, label="Length L",
                                help_text=f"{LENGTH_MIN} to {LENGTH_MAX}; empty: 3.")
    epsilon = forms.FloatField(required=False, label="epsilon",
                               help_text="dp-synthetic only: more than 0, at most the budget left; empty: 4.")
    delta = forms.FloatField(required=False, label="delta",
                             help_text="dp-synthetic only: between 0 and 1, at most the budget left; empty: 1/(n ln n).")
    seed = forms.IntegerField(required=False, min_value=0, max_value=SEED_MAX,
                              help_text="Of the synthetic sampling (never of the DP noise); empty: 0.")
    notes = forms.CharField(required=False, max_length=2000, label="Release notes")
    publish = forms.BooleanField(required=False, label="Publish as soon as every disclosure check passes")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        method = data.get("method", "")
        remaining = repository_ledger().remaining(data.get("dataset") or "victims") if method in DP_METHODS else None
        try:
            check_build_params(method=method, k=data.get("k"), epsilon=data.get("epsilon"), delta=data.get("delta"),
                               length=data.get("length"), seed=data.get("seed"), remaining=remaining)
        except InvalidPrivacyParameter as exc:
            for name, message in exc.extra["errors"].items():
                self.add_error(name if name in self.fields else None, message)
        return data


class ReleaseChoiceForm(forms.Form):
    dataset = forms.ChoiceField(choices=RELEASABLE, widget=forms.HiddenInput)
    version = forms.RegexField(regex=r"^\d{4}\.\d{2}\.\d{1,4}$", max_length=16, widget=forms.HiddenInput)


class PublishForm(ReleaseChoiceForm):
    pass


class WithdrawForm(ReleaseChoiceForm):
    reason = forms.CharField(max_length=2000, label="Why withdraw it",
                             help_text="Shown publicly beside the release, with the date. Never write case details.",
                             error_messages={"required": "Say why the release is withdrawn: the reason is shown "
                                                         "publicly beside it."})


class CancelForm(forms.Form):
    build = forms.IntegerField(min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
