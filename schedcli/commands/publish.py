"""`schedcli publish`: publish an article now or at a given time."""

from __future__ import annotations

import click

from schedcli.commands.options import schedule_options
from schedcli.commands.sending import sending_options


@click.command("publish")
@click.argument("article_id", type=int)
@schedule_options
@sending_options
@click.pass_obj
def command(application, article_id, when, key, wait, quiet, as_json):
    """Publish article ARTICLE_ID now, or later with --in / --at.

    The article must exist (`schedcli article add`); publishing happens exactly once, so
    publishing an already published article changes nothing.

    \b
    Example:
        schedcli publish 42 --at "tomorrow 12:00"
        schedcli publish 42 --in 1h --key launch-42
        schedcli publish 42 --wait
    """
    from schedcli.commands.sending import send_and_report
    from schedcli.jobinput import job_request
    from schedcli.store import JobStore

    settings = application.settings
    with JobStore.open(settings.database_url) as store:
        store.get_article(article_id)  # UnknownJob (exit 3) before anything is sent
    request = job_request("schedcli.tasks.publish_article", [article_id], {}, when=when, key=key)
    send_and_report(settings, request, wait=wait, quiet=quiet, as_json=as_json,
                    on_sent=lambda store, job: store.mark_article_scheduled(article_id, job.eta, job.id))
