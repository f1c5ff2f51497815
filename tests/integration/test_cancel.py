"""`schedcli cancel`: a waiting job never runs, whatever happens to the workers; running jobs only with
--terminate; finished and unknown jobs are refused; several ids, each reported."""

from __future__ import annotations

import json

import pytest

from helpers import run_schedcli
from helpers import HOOKPROJ, send
from helpers import wait_for_state


@pytest.mark.broker
@pytest.mark.slow
def test_a_cancelled_job_never_runs_even_when_the_worker_restarts_before_it_is_due(cli_runner, start_worker,
                                                                                    database_url, tmp_path):
    first = start_worker(app_args=HOOKPROJ)
    marker = tmp_path / "ran"
    job_id = send(cli_runner, "hookproj.touch", str(marker), "--in", "5s")
    first.wait_for_log(f"hookproj.touch[{job_id}] received")  # the worker holds the message until it is due
    result = cli_runner("cancel", job_id)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f'Cancelled {job_id}  hookproj.touch("{marker}")\n'
    first.stop()  # its held message goes back to RabbitMQ
    second = start_worker(app_args=HOOKPROJ)
    second.wait_for_log(f"Skipping job hookproj.touch[{job_id}]: it was cancelled in the job store")
    assert not marker.exists()
    assert "succeeded" not in first.log + second.log
    job = wait_for_state(database_url, job_id, "CANCELLED")
    assert (job.started_at, job.worker) == (None, None)
    assert cli_runner("status", job_id).exit_code == 1


@pytest.mark.broker
def test_a_running_job_is_left_alone_unless_terminate_stops_it(cli_runner, start_worker, database_url, tmp_path):
    worker = start_worker(app_args=HOOKPROJ)
    release = tmp_path / "release"
    job_id = send(cli_runner, "hookproj.steps", str(release))
    wait_for_state(database_url, job_id, "PROGRESS")

    result = cli_runner("cancel", job_id)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Not cancelled {job_id}: it is running (PROGRESS); --terminate stops it\n"
    assert wait_for_state(database_url, job_id, "PROGRESS")

    result = run_schedcli("cancel", job_id, "--terminate", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"id": job_id, "state": "CANCELLED", "cancelled": True,
                                          "reason": "terminated while PROGRESS"}]
    worker.wait_for_log(f"Terminating {job_id} (15)")  # 15: SIGTERM
    release.touch()  # would let the job finish, had it not been stopped
    later = send(cli_runner, "hookproj.add", "1", "2")
    wait_for_state(database_url, later, "SUCCESS")  # the worker goes on with other jobs
    job = wait_for_state(database_url, job_id, "CANCELLED")
    assert job.result is None and job.finished_at is not None
    assert f"hookproj.steps[{job_id}] succeeded" not in worker.log
