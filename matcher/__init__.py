"""Matching: embeddings, SDG tagging, eligibility-first scoring and explanations."""
