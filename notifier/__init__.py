"""Notifier: weekly Spanish digests per municipality, sent exactly once."""
