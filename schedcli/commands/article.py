"""`schedcli article add` and `schedcli article list`: the articles `schedcli publish` publishes."""

from __future__ import annotations

import click


@click.group("article")
def command():
    """Add and list articles, which `schedcli publish` publishes.

    \b
    Example:
        schedcli article add "Launch day" --body-file launch.md
        schedcli article list
    """


@command.command("add")
@click.argument("title")
@click.option("--body-file", type=click.File("r", encoding="utf-8"), help="Read the body from this file (- for stdin).")
@click.option("--json", "as_json", is_flag=True, help="Print the new article as a JSON object.")
@click.pass_obj
def add(application, title, body_file, as_json):
    """Add a draft article and print its id (only the id, for scripts).

    \b
    Example:
        id=$(schedcli article add "Launch day" --body-file launch.md)
        schedcli publish "$id" --at "tomorrow 12:00"
    """
    import time

    from schedcli.store import JobStore

    title = title.strip()
    if not title:
        raise click.BadParameter("an article needs a title", param_hint="TITLE")
    try:
        body = body_file.read() if body_file is not None else None
    except UnicodeDecodeError as exc:
        raise click.BadParameter(f"not UTF-8 text ({exc})", param_hint="--body-file") from None
    with JobStore.open(application.settings.database_url) as store:
        article_id = store.articles.add(title, body, time.time())
        article = store.articles.get(article_id)
    if as_json:
        import json

        click.echo(json.dumps(article.to_json(), ensure_ascii=False))
    else:
        click.echo(article_id)


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per article.")
@click.pass_obj
def list_(application, as_json):
    """List the articles: id, title, state (draft, scheduled, published), when due, when published.

    \b
    Example:
        schedcli article list
        schedcli article list --json
    """
    from schedcli.store import JobStore

    settings = application.settings
    with JobStore.open(settings.database_url) as store:
        articles = store.articles.list()
    if as_json:
        import json

        click.echo(json.dumps([article.to_json() for article in articles], ensure_ascii=False))
        return
    from rich.table import Table

    from schedcli.cli.rendering import console, local_time, safe_text

    if not articles:
        console(stderr=True).print('No articles yet. Add one with: schedcli article add "TITLE"')
        return

    def when(epoch):
        return "" if epoch is None else local_time(epoch, settings.timezone)

    table = Table("id", "title", "state", "publish at", "published at")
    for article in articles:
        table.add_row(str(article.id), safe_text(article.title), article.state,
                      when(article.publish_at), when(article.published_at))
    console().print(table)
