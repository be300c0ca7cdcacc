"""Pure parsing helpers shared by spiders and pipelines: dates, money, HTML, language."""
