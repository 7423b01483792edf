"""The kinds of feed this server ships: waste, air, transit, alerts, announcements; each one is a plugin.

A kind brings what the core must not know by name: how its items join what the feed said before, whether
they are calendar events or come and go, the filters and API data it adds, and its widget view. Each package
exposes its `KIND` object (see `feedserver.contract.Kind`), registered in the entry-point group
`feedserver.kinds` (`feedserver/registry.py`, pyproject.toml). Kinds use the core's leaf modules (items,
filters, the vocabularies), never the store, the web, the renderers or publication.
"""
