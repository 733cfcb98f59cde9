"""One module per `gamut` subcommand."""
