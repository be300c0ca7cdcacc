"""Scrapy project settings as a module, for the `scrapy` command and for Scrapyd (DESIGN §8).

The values are the ones `convoca crawl` uses, built from Convoca's settings (CONVOCA_*
environment variables of the process that runs the crawl), so a crawl started by Scrapyd on
another machine behaves exactly like a local one and writes to the database that host's
environment names.
"""

from convoca.settings import Settings
from crawlers.settings import scrapy_settings

globals().update(scrapy_settings(Settings()))
