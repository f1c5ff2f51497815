"""What `schedcli worker start` adds to a Celery worker (store hooks, cancel gate, prefetch step), asking
workers who answers, and loading the Celery app the settings name.

May import schedcli.store, schedcli.amqp, settings and exceptions; never schedcli.jobs, Click or Rich.
"""
