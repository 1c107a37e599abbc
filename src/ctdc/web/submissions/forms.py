"""Forms of the intake pages. They check input only; the work is done by services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ctdc.errors import MappingError
from ctdc.ingest.mapping import parse_mapping, preset_names
from ctdc.standard import load_standard
from ctdc.web.submissions.models import DuplicateFlag, SavedMapping

# Dataset types the harmonized store holds (cases.Victim, Perpetrator, VictimPerpetratorLink, JourneyEvent,
# RecruitmentFee, GovernmentResponse).
STORED_DATASETS = ("victims", "perpetrators", "victim_perpetrator_links", "journey_events", "recruitment_fees",
                   "government_response")


def mapping_choices(organisations) -> list[tuple[str, str]]:
    choices = [("detect", "Detect from the file's columns")]
    choices += [(f"preset:{name}", f"Preset: {name}") for name in preset_names()]
    names = (SavedMapping.objects.filter(organisation__in=organisations).values_list("name", flat=True)
             .distinct().order_by("name"))
    choices += [(f"mapping:{name}", f"Saved mapping: {name} (latest version)") for name in names]
    return choices


class UploadForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=None, empty_label=None)
    dataset = forms.ChoiceField(label=_("Dataset"))
    mapping = forms.ChoiceField(label=_("Mapping"), help_text=_("How this file's columns and codes map to the standard."))
    file = forms.FileField(label=_("File"),
                           help_text=_("CSV, TSV or XLSX. Kept only encrypted, and only for the retention period."))

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        standard = load_standard()
        self.fields["dataset"].choices = [(n, standard.dataset(n).label) for n in STORED_DATASETS]
        self.fields["mapping"].choices = mapping_choices(organisations)

    def clean(self):
        data = super().clean()
        org, choice = data.get("organisation"), data.get("mapping") or ""
        if org is not None and choice.startswith("mapping:") and not SavedMapping.objects.filter(
                organisation=org, name=choice.partition(":")[2]).exists():
            self.add_error("mapping", f"{org.name} has no saved mapping of that name.")
        return data


class ReprocessForm(forms.Form):
    mapping = forms.ChoiceField(label=_("Mapping"), help_text=_("Re-read the kept raw file with this mapping."))

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mapping"].choices = mapping_choices([organisation])


class DecisionForm(forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
                           label=_("Note (optional)"),
                           help_text=_("Why: shown with the decision and kept in the audit trail. Never write case "
                                       "details here."))


class MappingForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=None, empty_label=None)
    name = forms.SlugField(label=_("Name"), max_length=64,
                           help_text=_("Letters, digits and hyphens, e.g. 'case-register-2024'."))
    text = forms.CharField(label=_("Mapping (YAML)"), strip=False, max_length=200_000,
                           widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false"}))
    # The submission this mapping is made for (from its page): saving can then process it again at once.
    submission = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, organisations, submission=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        self.for_submission = submission

    def clean_organisation(self):
        org = self.cleaned_data["organisation"]
        if self.for_submission is not None and org != self.for_submission.organisation:
            raise forms.ValidationError(f"Submission {self.for_submission.pk} belongs to "
                                        f"{self.for_submission.organisation.name}: save the mapping for it.")
        return org

    def clean_text(self):
        text = self.cleaned_data["text"].replace("\r\n", "\n")
        try:
            parse_mapping(text, name=self.data.get("name") or "mapping", source="The mapping")
        except MappingError as exc:
            raise forms.ValidationError(exc.message) from None
        return text


class DuplicateDecisionForm(forms.Form):
    status = forms.ChoiceField(choices=DuplicateFlag.Status.choices)
    note = forms.CharField(required=False, max_length=2000, label=_("Note (optional)"),
                           help_text=_("Why: kept with the verdict. Never write case details here."))
