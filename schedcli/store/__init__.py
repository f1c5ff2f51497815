"""The job store: connection, schema and queries. Every SQL statement of schedcli lives in this package.

May import settings and exceptions only.
"""

from schedcli.store.articles import Article
from schedcli.store.connection import is_transient
from schedcli.store.jobs import RESULT_LIMIT, TRUNCATED, Job, JobStore, NewJob, Succeeded, capped_result
from schedcli.store.schedules import Schedule
from schedcli.store.schema import ACTIVE_STATES, FINAL_STATES, PENDING_STATES, STATES, iso

__all__ = ["ACTIVE_STATES", "FINAL_STATES", "PENDING_STATES", "RESULT_LIMIT", "STATES", "TRUNCATED", "Article", "Job", "Schedule",
           "JobStore", "NewJob", "Succeeded", "capped_result", "is_transient", "iso"]
