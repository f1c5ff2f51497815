"""The articles of the demo newsroom (`schedcli article`, `schedcli publish`) as the store keeps them.

An article records only what happened to it: its text, the last publish job sent for it and, once
published, when. Whether it is scheduled, and for when, is read from that job (following a
reschedule to the job that replaced it), so cancelling or moving a job never has to touch articles.
"""

from __future__ import annotations

from dataclasses import dataclass

from schedcli.exceptions import UnknownJob
from schedcli.store.connection import Database
from schedcli.store.schema import ACTIVE_STATES, iso

# Reschedules are followed this many hops at most: more would be a loop no sender writes.
MAX_RESCHEDULES_FOLLOWED = 100


@dataclass
class Article:
    """One article; `state` is draft, scheduled (its publish job waits or runs) or published."""

    id: int
    title: str
    body: str | None
    state: str
    publish_at: float | None
    published_at: float | None
    publish_job_id: str | None
    created_at: float

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title, "body": self.body, "state": self.state,
                "publish_at": iso(self.publish_at), "published_at": iso(self.published_at),
                "publish_job_id": self.publish_job_id, "created_at": iso(self.created_at)}


SELECT_ARTICLE = "SELECT id, title, body, published_at, publish_job_id, created_at FROM articles"


class ArticleStore:
    """The articles table of a job store (`JobStore.articles`)."""

    def __init__(self, database: Database):
        self._db = database

    def add(self, title: str, body: str | None, now: float) -> int:
        """Add a draft article; its id."""
        with self._db.transaction() as tx:
            if self._db.sqlite:
                tx.execute("INSERT INTO articles (title, body, created_at) VALUES (?, ?, ?)", (title, body, now))
                return tx.fetch("SELECT last_insert_rowid()")[0][0]
            return tx.fetch("INSERT INTO articles (title, body, created_at) VALUES (?, ?, ?) RETURNING id",
                            (title, body, now))[0][0]

    def get(self, article_id: int) -> Article:
        rows = self._db.fetch(f"{SELECT_ARTICLE} WHERE id = ?", (article_id,))
        if not rows:
            raise UnknownJob(f"unknown article {article_id}")
        return self._article(rows[0])

    def list(self) -> list[Article]:
        return [self._article(row) for row in self._db.fetch(f"{SELECT_ARTICLE} ORDER BY id")]

    def set_publish_job(self, article_id: int, job_id: str) -> None:
        """A publish job was sent for the article; a published article keeps the job that published it."""
        with self._db.transaction() as tx:
            changed = tx.execute("UPDATE articles SET publish_job_id = ? WHERE id = ? AND published_at IS NULL",
                                 (job_id, article_id))
            if not changed and not tx.fetch("SELECT id FROM articles WHERE id = ?", (article_id,)):
                raise UnknownJob(f"unknown article {article_id}")

    def publish(self, article_id: int, job_id: str | None, now: float) -> tuple[bool, float]:
        """Mark the article published by `job_id`, exactly once: (True, now) the first time, else (False, when)."""
        with self._db.transaction() as tx:
            if tx.execute("UPDATE articles SET published_at = ?, publish_job_id = COALESCE(?, publish_job_id) "
                          "WHERE id = ? AND published_at IS NULL", (now, job_id, article_id)) == 1:
                return True, now
            rows = tx.fetch("SELECT published_at FROM articles WHERE id = ?", (article_id,))
        if not rows:
            raise UnknownJob(f"unknown article {article_id}")
        return False, rows[0][0]

    def _article(self, row) -> Article:
        id_, title, body, published_at, publish_job_id, created_at = row
        state, publish_at = "draft", None
        if published_at is not None:
            state = "published"
            job = self._job_state(publish_job_id)
            publish_at = job[1] if job else None
        else:
            job_id = publish_job_id
            for _ in range(MAX_RESCHEDULES_FOLLOWED):
                job = self._job_state(job_id)
                if job is None:
                    break
                job_state, eta, rescheduled_to = job
                if job_state == "CANCELLED" and rescheduled_to is not None:
                    job_id = rescheduled_to
                    continue
                if job_state in ACTIVE_STATES:
                    state, publish_at = "scheduled", eta
                break
        return Article(id_, title, body, state, publish_at, published_at, publish_job_id, created_at)

    def _job_state(self, job_id: str | None) -> tuple | None:
        if job_id is None:
            return None
        rows = self._db.fetch("SELECT state, eta, rescheduled_to FROM jobs WHERE id = ?", (job_id,))
        return rows[0] if rows else None
