"""The match-list web pages: server-rendered (FastAPI + Jinja2), Spanish, usable without JavaScript."""
