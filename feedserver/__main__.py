"""`python -m feedserver` is the `feedserver` command."""

from .cli import main

main()
