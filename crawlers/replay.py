"""Replay of recorded responses: a local HTTP server and the download handler that uses it.

Spiders keep their real URLs. In replay mode the download handler sends each request to the
local server as `/{scheme}/{host}{path}?{query}` and hands the spider a response that carries
the real URL, so links, robots.txt and per-domain throttling behave as on the live site.

Each recording folder holds a `manifest.yaml`:

    source: eu_sedia
    provenance: how the files were made
    spider_args: {page_size: "10"}       # parameters the recording was taken with
    responses:
      - request: {method: POST, url: https://host/path, query: {pageNumber: "1"}, body_contains: [...]}
        response: {status: 200, content_type: application/json, file: page1.json}
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import structlog
import yaml
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Request, Response

log = structlog.stdlib.get_logger("convoca.replay")

RECORDINGS_DIR = Path(__file__).parent / "recordings"


@dataclass
class Recorded:
    method: str
    scheme: str
    host: str
    path: str
    query: dict[str, str]
    body_contains: list[str]
    status: int
    content_type: str
    file: Path | None
    headers: dict[str, str] = field(default_factory=dict)

    def matches(self, method: str, scheme: str, host: str, path: str, query: dict[str, str], body: bytes) -> bool:
        if method != self.method or host != self.host or path.rstrip("/") != self.path.rstrip("/"):
            return False
        if scheme != self.scheme:
            return False
        if any(query.get(k) != v for k, v in self.query.items()):
            return False
        text = body.decode("utf-8", "replace")
        return all(fragment in text for fragment in self.body_contains)


@dataclass
class Recording:
    source: str
    folder: Path
    spider_args: dict[str, str]
    responses: list[Recorded]


def load_recording(folder: Path) -> Recording:
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))
    responses = []
    for entry in manifest.get("responses", []):
        req, resp = entry["request"], entry["response"]
        url = urlsplit(req["url"])
        responses.append(Recorded(
            method=req.get("method", "GET").upper(),
            scheme=url.scheme,
            host=url.netloc,
            path=url.path or "/",
            query={str(k): str(v) for k, v in (req.get("query") or dict(parse_qsl(url.query))).items()},
            body_contains=list(req.get("body_contains", [])),
            status=int(resp.get("status", 200)),
            content_type=resp.get("content_type", "application/octet-stream"),
            file=folder / resp["file"] if resp.get("file") else None,
            headers={str(k): str(v) for k, v in (resp.get("headers") or {}).items()},
        ))
    return Recording(str(manifest["source"]), folder, {str(k): str(v) for k, v in (manifest.get("spider_args") or {}).items()}, responses)


def discover_recordings(*roots: Path) -> list[Recording]:
    found = []
    for root in roots:
        if (root / "manifest.yaml").exists():
            found.append(load_recording(root))
            continue
        for manifest in sorted(root.glob("*/manifest.yaml")):
            found.append(load_recording(manifest.parent))
    return found


class ReplayServer:
    """Serves recorded responses on 127.0.0.1; usable as a context manager."""

    def __init__(self, recordings: list[Recording], host: str = "127.0.0.1", port: int = 0):
        self.recordings = recordings
        self.hits: list[tuple[str, str, int]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # silence stderr; we log ourselves
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server._answer(self, body)

            do_GET = do_POST = do_HEAD = _serve

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def _answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        target = urlsplit(handler.path)
        parts = target.path.lstrip("/").split("/", 2)
        if len(parts) < 2:
            self._send(handler, 404, "text/plain", b"not a replay path")
            return
        scheme, host = parts[0], parts[1]
        path = "/" + (parts[2] if len(parts) > 2 else "")
        query = dict(parse_qsl(target.query, keep_blank_values=True))
        candidates = [rec for recording in self.recordings for rec in recording.responses
                      if rec.matches(handler.command, scheme, host, path, query, body)]
        if candidates:
            # The most specific recording wins: `?paged=2` is not page 1 just because page 1's
            # entry names no query parameter.
            rec = max(candidates, key=lambda r: (r.query == query, len(r.query), len(r.body_contains)))
            payload = rec.file.read_bytes() if rec.file else b""
            self.hits.append((handler.command, f"{scheme}://{host}{path}", rec.status))
            self._send(handler, rec.status, rec.content_type, payload, rec.headers)
            return
        if path != "/robots.txt":
            log.warning("replay_miss", method=handler.command, url=f"{scheme}://{host}{path}", query=query)
        self.hits.append((handler.command, f"{scheme}://{host}{path}", 404))
        self._send(handler, 404, "text/plain", b"no recorded response")

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, content_type: str, payload: bytes,
              headers: dict[str, str] | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(payload)

    def start(self) -> str:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="replay-server", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ReplayServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ReplayDownloadHandler(HTTP11DownloadHandler):
    """Downloads from the replay server while keeping the request's real URL."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.base = str(crawler.settings.get("CONVOCA_REPLAY_URL")).rstrip("/")

    async def download_request(self, request: Request) -> Response:
        parts = urlsplit(request.url)
        local_url = f"{self.base}/{parts.scheme}/{parts.netloc}{parts.path or '/'}"
        if parts.query:
            local_url += f"?{parts.query}"
        response = await super().download_request(request.replace(url=local_url))
        return response.replace(url=request.url, request=request)
