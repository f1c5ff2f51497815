"""Jobs as a user asks for them: requests validated once, sending, reading and following, cancel and reschedule.

May import schedcli.store, schedcli.amqp, schedcli.worker (to load an app, to ask workers), timeparse,
settings and exceptions; never Click or Rich.
"""
