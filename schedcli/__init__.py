"""schedcli: `at` for Celery. Schedule background jobs on RabbitMQ from the command line."""

__version__ = "0.1.0"
