"""Scrapy project: spiders per source, normalising pipelines, source-run records."""
