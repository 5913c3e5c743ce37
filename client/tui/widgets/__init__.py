"""Reusable widgets: entries (post, notification, person), lists of them, the status bar."""
