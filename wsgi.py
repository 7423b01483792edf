"""Production entry point: gunicorn 'wsgi:app' (the scheduler runs in `feedserver worker`)."""

from feedserver.app import create_app
from feedserver.logs import configure

app = create_app()
configure(
    app.extensions["feedserver"].settings.logging.format, app.extensions["feedserver"].settings.logging.level
)
