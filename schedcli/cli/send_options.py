"""What `call`, `publish` and `report run` share: --key/--wait/-q/--json, sending one job or a file, and output."""

from __future__ import annotations

import itertools
import sys

import click


def sending_options(function):
    """Add --key, --wait, -q/--quiet and --json to a sending command."""
    function = click.option("--json", "as_json", is_flag=True, help="Print the job record as JSON.")(function)
    function = click.option("-q", "--quiet", is_flag=True, help="Print only the job id.")(function)
    function = click.option("--wait", is_flag=True,
                            help="Follow the job until it ends; exit 0 on success, 1 on failure.")(function)
    function = click.option("--key", metavar="KEY",
                            help="Idempotency key: while a job with this key is scheduled or running, "
                                 "sending again returns that job instead.")(function)
    return function


def send_and_report(settings, request, *, queue=None, wait=False, quiet=False, as_json=False, on_sent=None) -> None:
    """Send one job; print its id (-q), record (--json) or a human summary; follow it with --wait.

    `on_sent(job)` runs once a new job is confirmed and recorded (e.g. to link it to its article).
    """
    from schedcli.exceptions import BrokerUnavailable
    from schedcli.jobs.sending import Dispatcher

    [result] = Dispatcher(settings, queue=queue).send([request])
    if result.error:
        raise BrokerUnavailable(f"job not sent: {result.error}")
    job = result.job
    if on_sent and not result.existing:
        on_sent(job)
    if as_json:
        import json

        click.echo(json.dumps(job.to_json()))
    elif quiet:
        click.echo(result.job_id)
    else:
        from schedcli.cli.rendering import render_sent

        render_sent(job, settings.timezone, existing=result.existing)
    if wait:
        follow_until_done(settings, result.job_id, quiet=quiet or as_json)


def follow_until_done(settings, job_id: str, quiet: bool) -> None:
    """Show the job's progress until it ends; Ctrl-C stops waiting, not the job."""
    from schedcli.cli.rendering import follow_job_live, render_outcome
    from schedcli.jobs.reading import JobReader
    from schedcli.store import JobStore

    with JobStore.open(settings.database_url) as store:
        try:
            job = follow_job_live(JobReader(settings, store).follow(job_id), show=not quiet)
        except KeyboardInterrupt:
            click.echo(f"Stopped waiting; the job goes on. Look again with: schedcli status {job_id}", err=True)
            sys.exit(130)
    if not quiet or job.state != "SUCCESS":  # an error goes to stderr even with -q or --json
        render_outcome(job)
    if job.state != "SUCCESS":
        sys.exit(1)


def send_file_and_report(settings, task, lines, *, queue=None, expires=None, quiet=False, as_json=False) -> None:
    """Send one job per JSON line over one connection; bad lines are reported with their number, the rest go."""
    from schedcli.jobs.sending import Dispatcher
    from schedcli.jobs.requests import read_job_lines
    from schedcli.runtime import fewer_collections

    dispatcher = Dispatcher(settings, queue=queue)
    dispatcher.route(task)  # an unknown task fails the whole file at once, before anything is sent
    problems = []

    def good_lines():
        for number, request, problem in read_job_lines(lines, task, settings.timezone, expires=expires):
            if request is None:
                problems.append((number, problem))
            else:
                yield request

    # Read as the send goes, so that RabbitMQ works while the next lines are parsed; a file with no good line
    # sends nothing, and needs no RabbitMQ.
    requests = good_lines()
    first = next(requests, None)
    with fewer_collections():
        results = dispatcher.send(itertools.chain([first], requests)) if first is not None else []
    problems += [(result.request.line, result.error) for result in results if result.error]
    for number, problem in sorted(problems):
        click.echo(f"line {number}: {problem}", err=True)
    sent = [result for result in results if result.sent]
    if as_json:
        import json

        click.echo(json.dumps([result.job.to_json() for result in sent]))
    elif quiet:
        click.echo("\n".join(result.job_id for result in sent))
    else:
        existing = sum(result.existing for result in sent)
        resent = sum(result.resent for result in sent)
        click.echo(f"Sent {len(sent) - existing} job(s) of {task}"
                   + (f", {existing} already existed (same key)" if existing else "")
                   + (f", {resent} of them sent again: a send that was killed had left them unconfirmed"
                      if resent else "")
                   + (f"; {len(problems)} line(s) failed" if problems else ""), err=True)
    if problems:
        sys.exit(1)
