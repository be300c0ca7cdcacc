"""Benchmarks: each module prints its figures and the ratio to its target (DESIGN §10)."""
