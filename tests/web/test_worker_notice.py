"""The no-worker notice on the pages that wait on the task queue, and `ctdc worker` itself.

The heartbeat is in the database: a test makes it fresh, stale or absent by writing the row, as a worker on
another machine (or one that died) would leave it.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from ctdc.web.submissions.models import Submission
from ctdc.web.worker.models import WorkerHeartbeat
from ctdc.web.worker.services import heartbeat_beat, heartbeat_stop
from tests.conftest import DATA
from tests.web.browser import SHOTS, chromium_page
from tests.web.intake import PASSWORD, make_people, upload

pytestmark = pytest.mark.django_db(transaction=True)
NOTICE = re.compile(r'<section class="card worker-notice" id="worker-notice" role="status"( hidden)?>(.*?)</section>',
                    re.S)


@pytest.fixture
def people():
    return make_people()


def _notice(html: str) -> tuple[bool, str]:
    """(shown, text) of the page's notice."""
    match = NOTICE.search(html)
    assert match, "the page has no worker notice"
    return match.group(1) is None, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(2))).replace("\xa0", " ")


def _beat(seconds_ago: float = 0, worker_id: str = "w1") -> None:
    heartbeat_beat(worker_id=worker_id, hostname="elsewhere", pid=4242, started_at=timezone.now())
    WorkerHeartbeat.objects.filter(worker_id=worker_id).update(seen_at=timezone.now() - timedelta(seconds=seconds_ago))


def test_the_steward_release_page_says_when_no_worker_was_seen_and_what_to_do(client, people, settings):
    settings.CTDC_WORKER_STALE_SECONDS = 60
    client.force_login(people["steward"])
    shown, text = _notice(client.get("/data/steward/").content.decode())
    assert shown and "No background worker has been seen yet" in text
    assert "ctdc serve" in text and "ctdc worker" in text  # a steward is told the command

    _beat(seconds_ago=5)
    shown, _ = _notice(client.get("/data/steward/").content.decode())
    assert not shown

    _beat(seconds_ago=600)  # the same worker, silent for ten minutes
    shown, text = _notice(client.get("/data/steward/").content.decode())
    assert shown and "last seen 10 minutes ago" in text

    _beat(seconds_ago=0, worker_id="w2")  # another worker, on another machine, is alive
    assert not _notice(client.get("/data/steward/").content.decode())[0]
    heartbeat_stop(worker_id="w2")  # ... and was stopped cleanly
    shown, text = _notice(client.get("/data/steward/").content.decode())
    assert shown and "when it was stopped" in text


def test_a_waiting_upload_tells_its_contributor_in_plain_words_and_progress_json_follows_the_heartbeat(client, people):
    client.force_login(people["harbour-light"])
    assert upload(client, DATA / "ctdc-public-synthetic.csv", "harbour-light").status_code == 302
    submission = Submission.objects.get()
    url = f"/intake/submissions/{submission.pk}/"
    shown, text = _notice(client.get(url).content.decode())
    assert shown and "Nothing is lost" in text and "data steward" in text
    assert "ctdc" not in text  # commands are for stewards and administrators, not contributors
    assert client.get(url + "progress.json").json()["worker_missing"] is True

    _beat()
    assert not _notice(client.get(url).content.decode())[0]
    assert client.get(url + "progress.json").json()["worker_missing"] is False
    _beat(seconds_ago=3600)
    assert client.get(url + "progress.json").json()["worker_missing"] is True


@pytest.mark.browser
def test_the_waiting_page_shows_the_notice_when_the_heartbeat_goes_stale_and_hides_it_when_fresh(live_server, people):
    _beat()
    from django.test import Client

    client = Client()
    client.force_login(people["harbour-light"])
    upload(client, DATA / "ctdc-public-synthetic.csv", "harbour-light")
    submission = Submission.objects.get()
    with chromium_page() as page:
        page.goto(live_server.url + "/accounts/login/")
        page.fill("#id_username", "harbour-light")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{live_server.url}/intake/submissions/{submission.pk}/")
        assert page.locator("#worker-notice").is_hidden()
        _beat(seconds_ago=600)  # the page polls progress.json and reveals the notice without a reload
        page.wait_for_selector("#worker-notice", state="visible", timeout=30_000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        assert "last seen 10 minutes ago" in page.locator("#worker-notice").inner_text().replace("\xa0", " ")
        page.screenshot(path=str(SHOTS / "worker-notice.png"), full_page=True)
        _beat()
        page.wait_for_selector("#worker-notice", state="hidden", timeout=30_000)


def test_ctdc_worker_batch_runs_the_queue_and_records_its_heartbeat(run_cli, client, people):
    client.force_login(people["harbour-light"])
    upload(client, DATA / "ctdc-public-synthetic.csv", "harbour-light")
    result = run_cli("worker", "--batch")
    assert result.exit_code == 0, result.output
    assert Submission.objects.get().status == "validated"
    beat = WorkerHeartbeat.objects.get()
    assert beat.pid == os.getpid() and beat.stopped_at is not None and beat.seen_at >= beat.started_at
