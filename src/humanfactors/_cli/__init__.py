"""Subcommands of the ``humanfactors`` command (one module each)."""
