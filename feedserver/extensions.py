"""Flask extensions, created unbound and attached in create_app with init_app."""

from flask_babel import Babel
from flask_caching import Cache

cache = Cache()
babel = Babel()  # gettext: catalogs in feedserver/translations, the locale from web.common.locale
