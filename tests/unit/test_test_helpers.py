"""The suite's own helpers, where a mistake shows only as a rare failure of an unrelated test."""
import os

import helpers


def test_rabbitmqctl_runs_with_an_environment_of_its_own(monkeypatch):
    """The vhost pool runs rabbitmqctl on a thread while tests set variables: a child that reads the process's
    environ at exec can find it freed (EFAULT). A private copy is built into the child's arguments instead."""
    calls = []
    monkeypatch.setattr(helpers.subprocess, "run", lambda argv, **options: calls.append(options))
    monkeypatch.setenv("SCHEDCLI_HELPER_PROBE", "1")
    helpers.rabbitmqctl("status")
    [options] = calls
    assert options["env"] == dict(os.environ)
    assert options["env"] is not os.environ
