"""The editorial desk: staff post announcements into their office's feeds; a second person approves them.

rules.py holds the four-eyes logic, records.py the SQL, actions.py ties them to the feeds (refresh, crisis),
schemas.py the API's marshmallow schemas, cli.py the `users` and `tokens` commands.
"""
