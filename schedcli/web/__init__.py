"""`schedcli serve`: the HTTP API for web apps and the dashboard for people, on FastAPI and uvicorn.

May import exceptions, settings, timeparse, store, amqp, jobs, schedules, worker, doctor, articles, report and
runtime; never Click or Rich, so it cannot import schedcli.cli.
"""
