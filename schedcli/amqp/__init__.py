"""RabbitMQ: the confirmed publisher, AMQP frame encoding, routes, and Celery's delay topology.

May import settings and exceptions only (`delays` imports nothing of schedcli, so timeparse may use its limit).
"""
