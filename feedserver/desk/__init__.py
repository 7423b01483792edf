"""The editorial desk: staff post announcements into their office's feeds; a second person approves them.

rules.py holds the four-eyes logic, records.py the SQL, actions.py ties them to the feeds (refresh, crisis),
schemas.py the API's marshmallow schemas, cli.py the `users` and `tokens` commands. Who is at the desk:
access.py (password logins under the throttle, server-side /admin sessions, API tokens) with throttle.py and
sessions.py (pure), access_records.py (their SQL) and settings.py (the [desk] config table).
"""
