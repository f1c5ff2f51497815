"""`schedcli reschedule`: a new job at the new time replaces the old one, which never runs; the two
are linked; the key, queue and expiry window move along; nothing changes when it cannot be done."""

from __future__ import annotations

import json
import re
import time

import pytest

from helpers import HOOKPROJ, send
from schedcli.store import JobStore
from helpers import wait_for_state


@pytest.mark.broker
def test_a_rescheduled_job_runs_at_its_new_time_and_the_old_one_never_runs(cli_runner, start_worker,
                                                                          database_url, tmp_path):
    worker = start_worker(app_args=HOOKPROJ)
    marker = tmp_path / "ran"
    old = send(cli_runner, "hookproj.touch", str(marker), "--in", "4s")
    result = cli_runner("reschedule", old[:8], "--in", "1s")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    new = lines[2].split()[1]
    assert lines[0] == f'Rescheduled hookproj.touch("{marker}")'
    assert re.fullmatch(r"  due  \w{3} \d\d \w{3} [\d:]{8} UTC \((in [\d.]+s|[\d.]+s ago|now)\)", lines[1]), lines[1]
    assert lines[2:] == [f"  id   {new}", f"  was  {old} (now cancelled)"]

    old_view = json.loads(cli_runner("status", old, "--json").stdout)
    assert (old_view["state"], old_view["rescheduled_to"]) == ("CANCELLED", new)
    status = cli_runner("status", old)
    assert status.exit_code == 1
    assert f"\nrescheduled to  {new}\n" in status.stdout
    assert f"\nrescheduled from  {old}\n" in cli_runner("status", new).stdout

    job = wait_for_state(database_url, new, "SUCCESS")
    assert job.started_at >= job.eta
    worker.wait_for_log(f"Skipping job hookproj.touch[{old}]: it was cancelled in the job store", timeout=30)
    assert f"hookproj.touch[{old}] succeeded" not in worker.log
    assert wait_for_state(database_url, old, "CANCELLED").started_at is None


@pytest.mark.broker
def test_the_new_job_keeps_the_key_queue_and_expiry_window(cli_runner, broker_url, database_url):
    old = send(cli_runner, "hookproj.add", "1", "2", "--in", "1h", "--expires", "2h", "--key", "nightly")
    result = cli_runner("reschedule", old, "--at", "in 3h", "--json")
    assert result.exit_code == 0, result.stderr
    with JobStore.open(database_url) as store:
        before, after = store.get(old), store.get(json.loads(result.stdout)["id"])
    assert json.loads(result.stdout) == after.to_json()
    assert (after.task, after.args, after.queue, after.app, after.key) == ("hookproj.add", [1, 2], "hookproj",
                                                                           "hookproj:app", "nightly")
    assert after.eta == pytest.approx(before.eta + 2 * 3600, abs=5)
    assert after.expires - after.eta == pytest.approx(before.expires - before.eta, abs=0.001)
    # The key now belongs to the new job: sending again with it returns that job.
    result = cli_runner(*HOOKPROJ, "call", "hookproj.add", "1", "2", "--key", "nightly", "--json")
    assert json.loads(result.stdout)["id"] == after.id


@pytest.mark.broker
def test_a_rescheduled_publish_moves_the_articles_publish_time(cli_runner, broker_url, database_url):
    with JobStore.open(database_url) as store:
        article = store.articles.add("Launch", None, time.time())
    old = cli_runner("publish", article, "--in", "1h", "-q").stdout.strip()
    new = cli_runner("reschedule", old, "--in", "2h", "-q").stdout.strip()
    with JobStore.open(database_url) as store:
        published = store.articles.get(article)
        assert published.state == "scheduled"
        assert published.publish_at == store.get(new).eta
