"""Benchmarks that print figures and ratios to their targets (DESIGN.md §10). Not timed tests."""
