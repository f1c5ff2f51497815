"""What every route of the server reaches: the settings, the shared publisher, the access rules, loaded apps."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from schedcli.settings import Settings
from schedcli.web.publishing import SharedPublisher
from schedcli.web.security import Access


@dataclass
class ServerContext:
    """One per server process, kept on `app.state.context`."""

    settings: Settings
    publisher: SharedPublisher
    access: Access
    started_at: float = field(default_factory=time.time)
    stopping: Callable[[], bool] = lambda: False  # the server was told to stop: live event streams end
    _celery_app: object = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def celery_app(self):
        """The configured Celery app, loaded once (for asking workers and stopping running jobs)."""
        with self._lock:
            if self._celery_app is None:
                from schedcli.worker.apps import load_celery_app

                self._celery_app = load_celery_app(self.settings)
            return self._celery_app
