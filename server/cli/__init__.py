"""The commands that work on a server's data directory: serve, admin, peer, sync, export/import, up's local server.

The `murmur` program (murmur.client.cli.main) composes these with the client's commands.
"""
