"""schemathesis against /api/v1/openapi.json (issue 16, Done when): every operation of the API, with requests
generated from its declared parameters, once without credentials and once with an API token holding both scopes.
No answer may be a server error, and every answer must match the document: a declared status, a declared content
type, a body of the declared schema.

Bounded and repeatable: `MAX_EXAMPLES` examples per operation and pass, derandomized (the same examples every run),
no example database. It runs in-process through the WSGI application on the test database, which holds a published
release (so the public endpoints answer with figures, not only 404s) and a contributor's submission.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ctdc.web.accounts.tokens import api_token_create
from tests.conftest import DATA
from tests.web.intake import make_people

MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def world(db, run_cli, simulated):
    folder, _ = simulated
    people = make_people()
    assert run_cli("ingest", str(folder / "open-roads.csv"), "--org", "open-roads", "--preset", "kobo-htcds",
                   "--approve").exit_code == 0
    assert run_cli("release", "build", "--publish").exit_code == 0
    assert run_cli("ingest", str(DATA / "problems.csv"), "--org", "lakeside-helpline", "--mapping",
                   str(DATA / "small.mapping.yml")).exit_code == 0
    _, key = api_token_create(user=people["lakeside-helpline"], name="schemathesis", scopes=["read", "submit"])
    return key


def _run(schema, headers: dict, seen: dict[str, set[int]]) -> list[str]:
    """Run every operation; `seen` collects the statuses each operation answered (a check that the runs ran)."""
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7, [op.label for op in operations]
    for operation in operations:
        @given(case=operation.as_strategy())
        @hsettings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
                   phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            seen.setdefault(f"{case.operation.label} {'token' if headers else 'public'}", set()).add(
                response.status_code)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # one entry per failing operation, all in the assertion
            failures.append(f"{operation.label} ({'token' if headers else 'public'}): {exc}"[:3000])
    return failures


@pytest.fixture
def wsgi_app():
    """Django's WSGI application, kept from closing the test's database connection after each request (as Django's
    own test client does)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_every_api_answer_matches_the_openapi_document_public_and_with_a_token(world, wsgi_app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    seen: dict[str, set[int]] = {}
    failures = _run(schema, {}, seen) + _run(schema, {"Authorization": f"Bearer {world}"}, seen)
    assert failures == [], "\n\n".join(failures)
    # The runs reached the API as intended: public figures answered, the contributor API refused without a token
    # and answered with one.
    assert 200 in seen["GET /api/v1/releases public"] and 200 in seen["GET /api/v1/aggregates public"]
    assert seen["GET /api/v1/submissions public"] == {401}
    assert 200 in seen["GET /api/v1/submissions token"]
