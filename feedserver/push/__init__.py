"""Push and social: the WebSub hub, every feed as an ActivityPub actor, and usage statistics.

outbox.py is the database queue the pipeline writes to (announce_change); worker.py drains it in
`feedserver serve` and `feedserver worker`; websub.py and ap_*.py do the protocol work; stats.py counts.
"""
