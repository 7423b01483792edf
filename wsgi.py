"""Production entry point: gunicorn 'wsgi:app' (the scheduler runs in `feedserver worker`)."""

from feedserver.app import create_app

app = create_app()
