"""Flask extensions, created unbound and attached in create_app with init_app."""

from flask_caching import Cache

cache = Cache()
