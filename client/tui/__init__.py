"""The Textual TUI: timelines, threads, profiles, search and compose, over the same signed client as the CLI.

Only ``murmur tui`` (and a bare ``murmur``) imports this package, so the other commands never load Textual.
``MurmurApp(api, settings)`` is the one entry point; ``run_tui`` builds both from a profile.
"""
