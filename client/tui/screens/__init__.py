"""Screens: the timelines, a thread, a profile, search, compose, and the small dialogs."""
