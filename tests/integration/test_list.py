"""`schedcli list`: waiting jobs soonest due first, then the others newest first; filters; JSON; bad input."""

from __future__ import annotations

import pytest
from helpers import listed


@pytest.mark.broker
def test_jobs_sent_and_run_through_a_worker_are_listed_in_order(cli_runner, start_worker):
    start_worker()
    ids = {}
    for name, delay in (("in_2h", "2h"), ("in_1h", "1h")):
        result = cli_runner("call", "schedcli.tasks.echo", name, "--in", delay, "-q")
        ids[name] = result.stdout.strip()
    for name in ("first", "second"):
        result = cli_runner("call", "schedcli.tasks.echo", name, "--wait", "-q")
        assert result.exit_code == 0, result.stderr
        ids[name] = result.stdout.strip()
    assert listed(cli_runner) == [ids[name] for name in ("in_1h", "in_2h", "second", "first")]
    assert listed(cli_runner, "--scheduled") == [ids["in_1h"], ids["in_2h"]]
    assert listed(cli_runner, "--state", "success") == [ids["second"], ids["first"]]
