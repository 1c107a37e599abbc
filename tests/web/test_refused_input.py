"""The server trusts no form and no parameter (issue 19, item 5): release-build parameters out of bounds are
refused with the field's error and the form re-shown, defaults apply only to absent fields, and no input to any
intake, steward or API endpoint makes the server fail (5xx)."""

from __future__ import annotations

import pytest

from ctdc.errors import InvalidPrivacyParameter
from ctdc.web.releases.models import Release, ReleaseBuild
from ctdc.web.releases.services import release_build_create
from ctdc.web.submissions.models import DuplicateFlag, Submission
from tests.web.intake import make_people, run_worker, upload

pytestmark = pytest.mark.django_db(transaction=True)
ACTION = "/data/steward/action/"


@pytest.fixture
def people():
    return make_people()


@pytest.fixture
def steward(client, people):
    client.force_login(people["steward"])
    return client


def _build(client, **fields):
    return client.post(ACTION, {"action": "build", "dataset": "victims", "method": "k-anonymity", **fields})


@pytest.mark.parametrize("field, value, error", [
    ("k", "1", "Ensure this value is greater than or equal to 2."),
    ("k", "0", "Ensure this value is greater than or equal to 2."),
    ("k", "-5", "Ensure this value is greater than or equal to 2."),
    ("k", "2.5", "Enter a whole number."),
    ("k", "eleven", "Enter a whole number."),
    ("k", "100000", "Ensure this value is less than or equal to 1000."),
    ("length", "0", "Ensure this value is greater than or equal to 1."),
    ("length", "5", "Ensure this value is less than or equal to 4."),
    ("length", "99", "Ensure this value is less than or equal to 4."),
    ("epsilon", "0", "epsilon must be a number greater than 0."),
    ("epsilon", "-1", "epsilon must be a number greater than 0."),
    ("epsilon", "nan", "Enter a number."),
    ("epsilon", "inf", "Enter a number."),
    ("delta", "0", "delta must be a number greater than 0 and less than 1."),
    ("delta", "1", "delta must be a number greater than 0 and less than 1."),
    ("delta", "-0.1", "delta must be a number greater than 0 and less than 1."),
    ("seed", "-1", "Ensure this value is greater than or equal to 0."),
    ("method", "laplace-magic", "Select a valid choice."),
    ("dataset", "traffickers", "Select a valid choice."),
])
def test_each_out_of_bounds_build_parameter_is_refused_beside_its_field(steward, field, value, error):
    method = "dp-synthetic" if field in ("epsilon", "delta") else "k-anonymity"
    response = _build(steward, **{"method": method, field: value})
    page = response.content.decode()
    assert response.status_code == 400 and not ReleaseBuild.objects.exists()
    assert "The build was not queued" in page and error in page
    if field != "dataset":  # a hidden field: its error is listed with the form's own
        section = page[page.index(f'id="field-{field}"'):]
        assert error in section[:section.index("</p>")]
        if field != "method":  # the form comes back with what was typed
            assert 'id="build-form"' in page and f'value="{value}"' in section[:section.index("</p>")]


def test_epsilon_and_delta_beyond_the_budget_left_are_refused_for_a_dp_release(steward, settings):
    settings.CTDC_DP_EPSILON_BUDGET, settings.CTDC_DP_DELTA_BUDGET = 3.0, 1e-6
    page = _build(steward, method="dp-synthetic", epsilon="3.5").content.decode()
    assert "epsilon 3.5 is more than the 3 left of this dataset&#x27;s privacy budget." in page
    page = _build(steward, method="dp-synthetic", epsilon="1", delta="2e-6").content.decode()
    assert "delta 2e-06 is more than the 1e-06 left" in page
    page = _build(steward, method="dp-synthetic").content.decode()  # the default epsilon, 4, is more than 3
    assert "The default epsilon 4 is more than the 3 left" in page
    assert not ReleaseBuild.objects.exists()
    # The budget matters only to a DP method: the same epsilon does not stop a k-anonymity build.
    assert _build(steward, method="k-anonymity", epsilon="3.5").status_code == 302


def test_absent_fields_take_their_defaults_and_given_ones_are_used_as_given(steward, settings):
    assert _build(steward, k="", length="", epsilon="", notes="").status_code == 302
    build = ReleaseBuild.objects.get()
    assert build.params == {"k": settings.CTDC_SUPPRESSION_K, "epsilon": 4.0, "length": 3, "seed": 0}
    ReleaseBuild.objects.update(status="cancelled")
    assert _build(steward, method="dp-synthetic", k="2", length="4", epsilon="0.5", delta="1e-7",
                  seed="7").status_code == 302
    assert ReleaseBuild.objects.get(status="queued").params == {"k": 2, "epsilon": 0.5, "length": 4, "seed": 7,
                                                                "delta": 1e-7}


@pytest.mark.parametrize("params", [{"k": 0}, {"k": 1}, {"length": 99}, {"length": 0}, {"epsilon": 0.0},
                                    {"epsilon": -1.0}, {"delta": 0.0}, {"seed": -3}])
def test_the_service_that_every_path_uses_refuses_the_same_parameters(params, settings):
    # The command line and the task queue go through release_build_create: k = 0 no longer becomes 11, nor
    # epsilon = 0 becomes 4.
    with pytest.raises(InvalidPrivacyParameter) as info:
        release_build_create(method="dp-synthetic", **params)
    assert set(info.value.extra["errors"]) == set(params) and not ReleaseBuild.objects.exists()


def test_the_command_line_refuses_them_too(run_cli):
    for args in (("--k", "1"), ("--length", "5"), ("--epsilon", "0"), ("--delta", "1")):
        result = run_cli("release", "build", *args)
        assert result.exit_code == 2 and "Invalid value" in result.output, args
    assert not ReleaseBuild.objects.exists()


def test_steward_actions_with_missing_or_malformed_fields_are_refused_with_a_message(steward):
    for data in ({"action": "publish"}, {"action": "publish", "dataset": "victims", "version": "../../etc"},
                 {"action": "publish", "dataset": "victims", "version": "2026.12.99"},
                 {"action": "withdraw", "dataset": "victims", "version": "2026.12.1"},
                 {"action": "cancel", "build": "abc"}, {"action": "cancel", "build": "-1"},
                 {"action": "cancel", "build": "99999999999999999999999"}, {"action": "cancel", "build": "424242"},
                 {"action": "explode"}, {}):
        response = steward.post(ACTION, data, follow=True)
        assert response.status_code in (200, 400), data
        text = response.content.decode()
        assert 'class="error"' in text or "errorlist" in text, data
    assert not Release.objects.exists()


NASTY = ["\x00", "a\x00b", "-1", "0", "99999999999999999999999", "1e309", "nan", "abc", "ä" * 300,
         "' OR 1=1 --", "../../etc/passwd", "<script>alert(1)</script>", "%00", " "]


def test_no_input_to_any_intake_steward_or_api_endpoint_makes_the_server_fail(client, people, simulated):
    folder, _ = simulated
    client.force_login(people["open-roads"])
    upload(client, folder / "open-roads.csv", "open-roads")
    run_worker()
    submission = Submission.objects.get()
    client.force_login(people["steward"])
    flag = DuplicateFlag.objects.first()
    s = submission.pk
    gets = {
        "/intake/submissions/": ["status"], f"/intake/submissions/{s}/": ["mapping"],
        f"/intake/submissions/{s}/report/": ["code", "field", "severity", "page", "qpage", "qcode"],
        f"/intake/submissions/{s}/report.csv": ["code", "field", "severity"],
        f"/intake/submissions/{s}/report.json": ["code"], f"/intake/submissions/{s}/progress.json": ["x"],
        "/intake/duplicates/": ["status", "page"], "/intake/mappings/new/": ["submission"],
        "/intake/organisations/open-roads/quality/": ["x"], "/data/": ["x"], "/data/steward/": ["x"],
        "/data/terms/": ["next"], "/api/v1/releases": ["dataset"], "/api/v1/aggregates": ["by", "dataset", "year_from"],
    }
    posts = {
        "/intake/submissions/new/": ["organisation", "dataset", "mapping"],
        f"/intake/submissions/{s}/reprocess/": ["mapping"], f"/intake/submissions/{s}/reject/": ["note"],
        "/intake/mappings/new/": ["organisation", "name", "text", "submission", "then"],
        ACTION: ["action", "dataset", "method", "k", "length", "epsilon", "delta", "seed", "notes", "version",
                 "reason", "build", "publish"],
        "/data/terms/": ["accept", "next"],
    }
    if flag:
        posts[f"/intake/duplicates/{flag.pk}/decide/"] = ["status", "note", "back"]
    failures = []
    for value in NASTY:
        for url, names in gets.items():
            for name in names:
                r = client.get(url, {name: value})
                if r.status_code >= 500:
                    failures.append(("GET", url, name, value, r.status_code))
        for url, names in posts.items():
            for name in names:
                for action in (["build", "withdraw", "publish", "cancel"] if url == ACTION else [None]):
                    data = {name: value, **({"action": action} if action and name != "action" else {})}
                    r = client.post(url, data)
                    if r.status_code >= 500:
                        failures.append(("POST", url, name, value, r.status_code))
        for url in (f"/api/v1/releases/{value}/latest", f"/api/v1/releases/victims/{value}",
                    f"/data/victims/{value}/", f"/intake/organisations/{value}/quality/"):
            r = client.get(url.replace("\x00", "%00"))
            if r.status_code >= 500:
                failures.append(("GET", url, "", value, r.status_code))
    assert failures == []
    submission.refresh_from_db()
    assert submission.status in ("validated", "rejected", "uploaded")  # whatever the nasty posts did, no crash
