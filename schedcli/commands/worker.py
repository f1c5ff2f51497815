"""`schedcli worker start` and `schedcli worker status`."""

from __future__ import annotations

import click


@click.group("worker")
def command():
    """Start a worker or see which workers answer.

    \b
    Example:
        schedcli worker start --concurrency 4
        schedcli worker status --json
    """


@command.command("start")
@click.option("-c", "--concurrency", type=click.IntRange(min=1), help="Processes running jobs (default: CPU count).")
@click.option("-Q", "--queues", help="Comma-separated queues to consume (default: the app's own).")
@click.option("-l", "--loglevel", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error", "critical"], case_sensitive=False))
@click.option("-n", "--hostname", default="schedcli@%h", show_default=True, help="Node name, as `celery worker -n`.")
@click.option("--pool", default="prefork", show_default=True,
              type=click.Choice(["prefork", "solo", "threads"]), help="Execution pool.")
@click.option("--prefetch-multiplier", type=click.IntRange(min=1),
              help="Jobs each process may hold: due now or within 2 s (default 128 for the bundled app; "
                   "1 for workers of long jobs, so others take the rest).")
@click.option("--top-up-every", "top_up_every", default=30.0, show_default=True, type=click.FloatRange(min=0.2),
              help="Seconds between this worker's top-ups of the recurring schedules.")
@click.option("--horizon", default=600.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds of each schedule's occurrences kept sent ahead (and always the next one).")
@click.option("--no-schedules", is_flag=True, help="Do not top up recurring schedules from this worker.")
@click.pass_obj
def start(application, concurrency, queues, loglevel, hostname, pool, prefetch_multiplier, top_up_every, horizon,
          no_schedules):
    """Run a Celery worker for the configured app in the foreground.

    Waits for RabbitMQ when it is down. Ctrl-C or SIGTERM stops it cleanly: running jobs
    finish, and jobs it holds go back to RabbitMQ.

    \b
    Example:
        schedcli worker start --concurrency 2 --loglevel info
        schedcli --app myproj.celery:app worker start
    """
    from schedcli.worker.apps import load_celery_app
    from schedcli.worker.hooks import install_worker_hooks
    from schedcli.worker.inspection import check_broker_login

    settings = application.settings
    celery_app = load_celery_app(settings)
    install_worker_hooks(celery_app, settings)
    if not no_schedules:
        if top_up_every >= horizon:
            raise click.UsageError("--top-up-every must be shorter than --horizon")
        from schedcli.schedules.topup import install_top_up

        install_top_up(celery_app, settings, every=top_up_every, horizon=horizon)
    check_broker_login(celery_app)
    # Mingle and gossip share revokes and presence between workers; cancels live in the job store
    # instead, and skipping mingle saves a second at every start.
    argv = ["worker", "--loglevel", loglevel, "--hostname", hostname, "--pool", pool, "--without-mingle",
            "--without-gossip"]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    if queues:
        argv += ["--queues", queues]
    if prefetch_multiplier:
        argv += ["--prefetch-multiplier", str(prefetch_multiplier)]
    celery_app.worker_main(argv)


@command.command("status")
@click.option("--timeout", default=1.5, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds to wait for workers to answer.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per worker.")
@click.pass_obj
def status(application, timeout, as_json):
    """Show which workers answer, their concurrency and how many jobs each runs.

    Exits 1 when no worker answers.

    \b
    Example:
        schedcli worker status
        schedcli worker status --json
    """
    from schedcli.worker.apps import load_celery_app
    from schedcli.worker.inspection import answering_workers

    celery_app = load_celery_app(application.settings)
    workers = answering_workers(celery_app, timeout=timeout)
    if as_json:
        import json

        click.echo(json.dumps(workers))
    else:
        from schedcli.cli.rendering import render_workers

        render_workers(workers)
    if not workers:
        raise SystemExit(1)
