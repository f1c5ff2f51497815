"""A user's Celery app on Redis: schedcli can load it, and refuses to send to it (RabbitMQ only)."""

from celery import Celery

app = Celery("redisproj", broker="redis://127.0.0.1:6379/0")


@app.task(name="redisproj.add")
def add(x, y):
    return x + y
