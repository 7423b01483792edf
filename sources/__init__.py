"""Source adapters: one module per upstream kind.

The contract every module follows (a contract test runs over all of them):

    KIND = "waste"            # the feed kind: waste | air | transit | alerts | announcements | generic
    TITLE = "..."             # human name
    OPTIONS = SomeSchema      # marshmallow schema of the source's config options
    FILTERS = ("category",)   # names of core filters (feedserver.filters) that make sense for its items

    class Source:
        def __init__(self, feed: FeedInfo, **options): ...
        def fetch(self, http: Http) -> Payload: ...        # I/O only through feedserver.fetch.Http
        def parse(self, payload: Payload) -> list[Item]:   # pure; raises ParseError on a wrong shape

Sources return everything they found: no filtering, no rendering, and never `[]` for a failure.
"""
