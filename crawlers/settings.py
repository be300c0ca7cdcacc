"""Scrapy settings built from Convoca's Settings: crawling manners, pipelines, replay."""

from __future__ import annotations

from typing import Any

from convoca.settings import Settings

PIPELINES = {
    "crawlers.pipelines.NormalisePipeline": 100,
    "crawlers.pipelines.ClassifyPipeline": 200,
    "crawlers.pipelines.ValidatePipeline": 300,
    "crawlers.pipelines.DedupePipeline": 400,
    "crawlers.pipelines.PersistPipeline": 500,
}


def scrapy_settings(settings: Settings, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "BOT_NAME": "convoca",
        "SPIDER_MODULES": ["crawlers.spiders"],
        "USER_AGENT": f"{settings.user_agent} contact: {settings.contact_email}",
        "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS": 8,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        # At most one request per second per domain by default: one slot per domain, and the
        # delay is the floor AutoThrottle never goes under.
        "DOWNLOAD_DELAY": settings.download_delay,
        "DOWNLOAD_DELAY_JITTER": 0,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": max(settings.download_delay, 0.0),
        "AUTOTHROTTLE_MAX_DELAY": 60.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "DOWNLOAD_TIMEOUT": 60,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 3,
        "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 522, 524, 408],
        "CONVOCA_RETRY_BACKOFF_BASE": settings.retry_backoff,
        "CONVOCA_RETRY_BACKOFF_MAX": 60.0,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawlers.middlewares.BackoffRetryMiddleware": 550,
        },
        "HTTPCACHE_ENABLED": settings.http_cache,
        "HTTPCACHE_DIR": "httpcache",
        "HTTPCACHE_EXPIRATION_SECS": 24 * 3600,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_FORMATTER": "crawlers.logformat.ConvocaLogFormatter",
        "LOG_LEVEL": "INFO",
        "ITEM_PIPELINES": PIPELINES,
        "EXTENSIONS": {"crawlers.extensions.SourceRunRecorder": 100},
        "CONVOCA_DATABASE_URL": settings.database_url,
        "CONVOCA_FX_RATES": str(settings.config_dir / "fx_rates.yaml"),
        "CONVOCA_CONFIG_DIR": str(settings.config_dir),
    }
    if settings.replay_url:
        values["CONVOCA_REPLAY_URL"] = settings.replay_url
        values["DOWNLOAD_HANDLERS"] = {
            "http": "crawlers.replay.ReplayDownloadHandler",
            "https": "crawlers.replay.ReplayDownloadHandler",
        }
    values.update(overrides)
    return values
