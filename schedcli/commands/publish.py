"""`schedcli publish`: publish an article now or at a given time."""

from __future__ import annotations

import click

from schedcli.cli.time_options import schedule_options
from schedcli.cli.send_options import sending_options


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
    from schedcli.articles import publish_request
    from schedcli.cli.send_options import send_and_report
    from schedcli.store import JobStore

    settings = application.settings
    with JobStore.open(settings.database_url) as store:
        request = publish_request(store, article_id, when=when, key=key)
        send_and_report(settings, request, wait=wait, quiet=quiet, as_json=as_json,
                        on_sent=lambda job: store.articles.set_publish_job(article_id, job.id))
