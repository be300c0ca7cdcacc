"""Shared base spiders: what several sources built on the same platform have in common."""
