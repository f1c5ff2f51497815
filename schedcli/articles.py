"""The articles demo: a newsroom whose articles are published by scheduled jobs (`schedcli article`, `publish`).

It sits beside the core and uses it as any application would: a job request for the bundled task
`schedcli.tasks.publish_article`, and the store's articles table. An article's state follows its
publish job (see `schedcli.store.articles`), so nothing in the core knows about articles.
"""

from __future__ import annotations

from schedcli.jobs.requests import JobRequest, job_request
from schedcli.store import JobStore, iso

PUBLISH_TASK = "schedcli.tasks.publish_article"


def publish_request(store: JobStore, article_id: int, *, when=None, key: str | None = None) -> JobRequest:
    """The job that publishes `article_id` at `when`; UnknownJob (exit 3) for an article that does not exist."""
    store.articles.get(article_id)
    return job_request(PUBLISH_TASK, [article_id], {}, when=when, key=key)


def publish(store: JobStore, article_id: int, job_id: str | None, now: float) -> dict:
    """Publish the article, exactly once; the job's result says whether this job did it, or when it was done."""
    published_now, published_at = store.articles.publish(article_id, job_id, now)
    if published_now:
        return {"article_id": article_id, "published": True, "published_at": iso(published_at)}
    return {"article_id": article_id, "published": False, "already_published_at": iso(published_at)}
