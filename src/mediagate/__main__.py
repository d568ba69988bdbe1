"""``python -m mediagate`` runs the CLI."""

from mediagate.cli.main import main

main()
