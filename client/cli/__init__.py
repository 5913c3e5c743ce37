"""The ``murmur`` command line: one typer program, one module per command group."""
