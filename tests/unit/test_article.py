"""`schedcli article add/list`, and the bundled `publish_article` job run in-process (Celery's eager apply)."""

from __future__ import annotations

import json

import pytest
from celery import signals
from helpers import record_job

from schedcli.store import JobStore

NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
PUBLISH = "schedcli.tasks.publish_article"


def test_article_add_prints_only_the_new_id(cli_runner, database_url):
    first = cli_runner("article", "add", "Launch day")
    second = cli_runner("article", "add", "Follow-up")
    assert (first.exit_code, first.stdout, second.stdout) == (0, "1\n", "2\n")
    with JobStore.open(database_url) as store:
        assert store.articles.get(2).title == "Follow-up"


def test_article_add_reads_the_body_from_a_file_or_stdin(cli_runner, database_url, tmp_path):
    body = tmp_path / "launch.md"
    body.write_text("# Launch\n\nÉtoile [red]x[/red]\n", encoding="utf-8")
    assert cli_runner("article", "add", "From file", "--body-file", body).exit_code == 0
    assert cli_runner("article", "add", "From stdin", "--body-file", "-", input="piped body").exit_code == 0
    with JobStore.open(database_url) as store:
        assert store.articles.get(1).body == "# Launch\n\nÉtoile [red]x[/red]\n"
        assert store.articles.get(2).body == "piped body"


def test_article_add_json_prints_the_new_article(cli_runner, database_url):
    result = cli_runner("article", "add", "Launch day", "--json")
    article = json.loads(result.stdout)
    assert {k: article[k] for k in ("id", "title", "state", "publish_at", "published_at")} == {
        "id": 1, "title": "Launch day", "state": "draft", "publish_at": None, "published_at": None}
    assert article["created_at"].endswith("+00:00")


def test_article_add_without_a_title_is_bad_usage(cli_runner, database_url):
    result = cli_runner("article", "add", "   ")
    assert result.exit_code == 2
    assert "an article needs a title" in result.stderr
    with JobStore.open(database_url) as store:
        assert store.articles.list() == []


def published_and_scheduled_articles(database_url):
    with JobStore.open(database_url) as store:
        done = store.articles.add("Done [bold]deal[/bold]", None, NOW)
        store.articles.set_publish_job(done, record_job(store, state="SUCCESS", created=NOW, eta=NOW + 60,
                                                        job_id="job-1", task=PUBLISH, args=[done]))
        store.articles.publish(done, "job-1", NOW + 61.5)
        later = store.articles.add("Later", None, NOW)
        store.articles.set_publish_job(later, record_job(store, state="SCHEDULED", created=NOW, eta=NOW + 3600,
                                                         job_id="job-2", task=PUBLISH, args=[later]))
        store.articles.add("Draft", None, NOW)


def test_article_list_json_shows_state_and_times_in_iso_8601(cli_runner, database_url):
    published_and_scheduled_articles(database_url)
    articles = json.loads(cli_runner("article", "list", "--json").stdout)
    assert [(a["id"], a["title"], a["state"], a["publish_at"], a["published_at"], a["publish_job_id"])
            for a in articles] == [
        (1, "Done [bold]deal[/bold]", "published", "2027-01-15T08:01:00+00:00", "2027-01-15T08:01:01.500000+00:00",
         "job-1"),
        (2, "Later", "scheduled", "2027-01-15T09:00:00+00:00", None, "job-2"),
        (3, "Draft", "draft", None, None, None),
    ]


def test_article_list_table_shows_times_in_the_users_zone_and_titles_literally(cli_runner, database_url):
    published_and_scheduled_articles(database_url)
    result = cli_runner("--tz", "Europe/Moscow", "article", "list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    row = next(line for line in lines if "Done" in line)
    assert "Done [bold]deal[/bold]" in row and "published" in row
    assert "Fri 15 Jan 11:01:00 MSK" in row and "Fri 15 Jan 11:01:01 MSK" in row
    assert "Fri 15 Jan 12:00:00 MSK" in next(line for line in lines if "Later" in line)


def test_article_list_with_no_articles_says_how_to_add_one(cli_runner, database_url):
    result = cli_runner("article", "list")
    assert (result.exit_code, result.stdout) == (0, "")
    assert "schedcli article add" in result.stderr
    assert cli_runner("article", "list", "--json").stdout == "[]\n"


def test_article_commands_on_an_unusable_store_exit_74_in_one_line(cli_runner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = cli_runner("--database", f"sqlite:///{blocker}/jobs.db", "article", "list")
    assert result.exit_code == 74
    assert result.stderr.count("\n") == 1 and "cannot open the database" in result.stderr


# -- the publish_article job, run in-process ----------------------------------------------------

@pytest.fixture
def publish_task(database_url):
    from schedcli.app import create_app
    from schedcli.settings import resolve_settings

    app = create_app(resolve_settings())
    app.loader.import_default_modules()  # schedcli.tasks, as a worker imports it
    yield app.tasks["schedcli.tasks.publish_article"]
    app.close()


def test_publish_article_job_publishes_once_and_then_says_it_already_was(publish_task, database_url):
    with JobStore.open(database_url) as store:
        article = store.articles.add("Launch", None, NOW)
    first = publish_task.apply(args=[article]).get()
    second = publish_task.apply(args=[article]).get()
    assert first == {"article_id": article, "published": True, "published_at": first["published_at"]}
    assert second == {"article_id": article, "published": False, "already_published_at": first["published_at"]}


def test_publish_article_job_retries_a_transient_database_error_five_times(monkeypatch):
    from helpers import free_port

    from schedcli.app import create_app
    from schedcli.exceptions import DatabaseError
    from schedcli.settings import resolve_settings

    monkeypatch.setenv("SCHEDCLI_DATABASE_URL", f"postgresql://postgres:pw@127.0.0.1:{free_port()}/down")
    app = create_app(resolve_settings())
    app.loader.import_default_modules()
    retries = []

    def count(request=None, **_):
        retries.append(request.retries)

    signals.task_retry.connect(count, weak=False)
    try:
        result = app.tasks["schedcli.tasks.publish_article"].apply(args=[1])
    finally:
        signals.task_retry.disconnect(count)
        app.close()
    assert retries == [0, 1, 2, 3, 4]
    assert result.state == "FAILURE"
    assert isinstance(result.result, DatabaseError) and "Connection refused" in str(result.result)


def test_publish_article_job_does_not_retry_a_missing_article(publish_task, database_url):
    from schedcli.exceptions import UnknownJob

    retries = []

    def count(**_):
        retries.append(1)

    signals.task_retry.connect(count, weak=False)
    try:
        result = publish_task.apply(args=[404])
    finally:
        signals.task_retry.disconnect(count)
    assert (result.state, str(result.result), retries) == ("FAILURE", "unknown article 404", [])
    assert isinstance(result.result, UnknownJob)
