"""`make verify`: the verification battery of issue 8, run against a real orderdesk stack.

A fresh database, gunicorn and the task worker as subprocesses on a loopback port, the
sandbox served by that same gunicorn, and one module per check under verify/checks/.
"""
