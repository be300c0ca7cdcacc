"""Web match list under load: 10,000 matches in SQLite, `convoca serve` in its own process, a
keep-alive HTTP load generator here. Prints p50/p95 per page kind and the ratio to the target
(p95 ≤ 150 ms per list page and per detail page, DESIGN §10).

    python -m bench.web_load [--matches 10000] [--requests 400] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from sqlalchemy import insert, select

from convoca.cycle import sync_configs
from convoca.sdg_codes import ALL_TARGETS
from convoca.settings import Settings
from convoca.vocab import COOPERATION_TYPES
from matcher.scoring import DEFAULT_WEIGHTS, FEATURES, FILTERS
from models import (
    Match,
    Municipality,
    Opportunity,
    OpportunityLink,
    OpportunityVersion,
    Profile,
    SdgTag,
)
from models.db import get_engine, session_scope
from models.migrate import upgrade
from web.accounts import add_user

TARGET_P95_MS = 150.0
PASSWORD = "clave-de-carga-123"
USER = "carga@medellin.gov.co"

_WORDS_ES = ("movilidad", "sostenible", "agua", "saneamiento", "residuos", "economía circular", "primera infancia",
             "gobierno digital", "riesgo", "laderas", "bosques", "cambio climático", "empleo juvenil", "mujeres",
             "seguridad alimentaria", "energía renovable", "calidad del aire", "innovación", "cultura", "salud mental")
_WORDS_EN = ("urban mobility", "clean water", "waste management", "early childhood", "digital government",
             "disaster risk", "forest restoration", "climate adaptation", "youth employment", "gender equality",
             "food security", "renewable energy", "air quality", "public innovation", "creative economy")
_FUNDERS = ("Unión Europea", "BID Lab", "CAF", "GIZ", "KOICA", "JICA", "AECID", "Fondo Verde para el Clima",
            "Bloomberg Philanthropies", "UN-Habitat", "APC-Colombia", "MinCiencias", "C40", "ICLEI")


# The filters' details as the matcher writes them: the call's facts and the profile's side.
_FILTER_DETAILS = {
    "status": {"status": "open"}, "deadline": {"days_left": 60, "lead_days": 21},
    "country": {"eligible": ["CO"], "country": "CO"}, "applicant": {"eligible": [], "applicant_types": ["local_government"]},
    "cooperation_type": {"type": "technical", "accepted": ["technical", "financial_non_reimbursable"]},
    "amount": {"amount_min_cop": None, "amount_max_cop": None, "budget_min_cop": 5e8, "budget_max_cop": 4e9},
    "language": {"language": "en", "languages": ["es", "en"]},
}


def _explanation(rng: random.Random, features: dict[str, float], score: float) -> dict[str, object]:
    """An explanation of the same shape and size as matcher/explain.Explainer writes."""
    filters = [{"name": name, "status": "unknown" if name in ("applicant", "amount") else "passed",
                "detail": _FILTER_DETAILS[name]} for name in FILTERS]
    passages = [_text(rng, _WORDS_EN, 40) for _ in range(3)]
    return {
        "score": score, "ranker": "configured", "best_passage": passages[0],
        "best_passages": [{"text": t, "similarity": round(features["semantic"] / (i + 1), 4)} for i, t in enumerate(passages)],
        "passage_similarity": round(features["semantic"] / 2, 4),
        "shared_sdg_targets": rng.sample(ALL_TARGETS, 2), "shared_sdg_goals": ["11"],
        "matched_keywords": list(rng.sample(_WORDS_ES, 2)), "excluded_keywords": [], "exclusion_penalty": 0.0,
        "filters": filters, "unknown_filters": ["applicant", "amount"], "failed_filters": [],
        "breakdown": {name: {"value": round(features[name], 4), "weight": DEFAULT_WEIGHTS[name],
                             "points": round(100 * DEFAULT_WEIGHTS[name] * features[name], 2)} for name in FEATURES},
    }


def _text(rng: random.Random, words: tuple[str, ...], n: int) -> str:
    return " ".join(rng.choice(words) for _ in range(n))


def build_database(url: str, n_matches: int, rng: random.Random) -> dict[str, int]:
    """Realistic rows, inserted in bulk: opportunities with links, versions and SDG tags, then matches."""
    upgrade(url)
    now = datetime.now(UTC)
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    with session_scope(url) as session:
        sync_configs(session, settings)
        add_user(session, USER, PASSWORD, "medellin")
    n_opps = max(200, n_matches // 4)
    with session_scope(url) as session:
        opp_rows = []
        for i in range(n_opps):
            english = rng.random() < 0.6
            words = _WORDS_EN if english else _WORDS_ES
            deadline = now + timedelta(days=rng.randint(25, 300), hours=rng.randint(0, 23))
            amount = rng.choice([None, 50_000.0, 250_000.0, 1_000_000.0, 5_000_000.0])
            opp_rows.append({
                "source": rng.choice(("eu_sedia", "grants_gov", "apc_colombia", "fundsforngos")),
                "source_id": f"BENCH-{i}", "url": f"https://funding.example.org/calls/{i}",
                "title": f"{_text(rng, words, 3).capitalize()} — convocatoria {i}",
                "summary": _text(rng, words, 25), "description": _text(rng, words, 180),
                "language": "en" if english else "es", "funder": rng.choice(_FUNDERS),
                "cooperation_type": rng.choice(COOPERATION_TYPES[:4]), "status": "open",
                "deadline": deadline, "deadlines": [deadline.isoformat()],
                "amount_min": None, "amount_max": amount, "currency": "USD" if amount else None,
                "amount_cop": amount * 4000 if amount else None, "eligible_countries": ["CO"],
                "eligible_applicants": ["local_government", "ngo"], "topics": [rng.choice(words)],
                "raw": {"id": i}, "content_hash": f"{i:064d}", "first_seen_at": now - timedelta(days=30),
                "last_seen_at": now, "last_changed_at": now - timedelta(days=3),
            })
        session.execute(insert(Opportunity), opp_rows)
        opp_ids = list(session.scalars(select(Opportunity.id).order_by(Opportunity.id)))
        session.execute(insert(OpportunityLink), [
            {"opportunity_id": oid, "source": "eu_sedia", "source_id": f"L-{oid}", "url": f"https://funding.example.org/calls/{oid}",
             "canonical_url": f"funding.example.org/calls/{oid}", "first_seen_at": now, "last_seen_at": now}
            for oid in opp_ids])
        session.execute(insert(OpportunityVersion), [
            {"opportunity_id": oid, "field": "deadline", "old_value": (now + timedelta(days=20)).isoformat(),
             "new_value": (now + timedelta(days=50)).isoformat(), "changed_at": now - timedelta(days=3)}
            for oid in opp_ids if oid % 3 == 0])
        session.execute(insert(SdgTag), [
            {"opportunity_id": oid, "code": code, "level": "target" if "." in code else "goal",
             "score": round(rng.uniform(0.2, 1.0), 3), "model_id": "use-multilingual:v3"}
            for oid in opp_ids for code in {*rng.sample(ALL_TARGETS, 5)} | {rng.choice(ALL_TARGETS).split(".")[0]}])

        profiles = list(session.execute(
            select(Profile.id, Profile.municipality_id, Municipality.slug)
            .join(Municipality, Municipality.id == Profile.municipality_id).where(Profile.active.is_(True))))
        medellin = [p for p in profiles if p[2] == "medellin"]
        others = [p for p in profiles if p[2] != "medellin"]
        # Medellín, the largest, holds 30 % of the matches: its list pages are the heaviest.
        plan = [(p, (n_matches * 3 // 10) // len(medellin)) for p in medellin]
        rest = n_matches - sum(n for _, n in plan)
        plan += [(p, rest // len(others) + (1 if i < rest % len(others) else 0)) for i, p in enumerate(others)]
        match_rows = []
        for (profile_id, municipality_id, _slug), count in plan:
            for oid in rng.sample(opp_ids, min(count, len(opp_ids))):
                features = {"semantic": rng.random(), "sdg": rng.random(), "keywords": rng.random(), "urgency": rng.random()}
                score = round(30 + 69 * (0.55 * features["semantic"] + 0.45 * rng.random()), 2)
                explanation = _explanation(rng, features, score)
                match_rows.append({
                    "municipality_id": municipality_id, "profile_id": profile_id, "opportunity_id": oid, "score": score,
                    "passed_filters": True, "above_threshold": score >= 55, "components": features,
                    "explanation": explanation, "model_id": "use-multilingual:v3", "joint_call": False,
                    "status": rng.choice(("new", "new", "new", "reviewed", "applying", "dismissed")),
                    "first_matched_at": now, "computed_at": now})
        session.execute(insert(Match), match_rows)
    get_engine(url).dispose()
    return {"opportunities": n_opps, "matches": len(match_rows)}


@dataclass
class Sample:
    kind: str
    ms: float
    status: int


class Client:
    """One keep-alive connection with the session cookie."""

    def __init__(self, base: str, cookie: str):
        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        self.cookie = cookie

    def get(self, path: str) -> tuple[int, float]:
        started = time.perf_counter()
        self.conn.request("GET", path, headers={"Cookie": self.cookie})
        response = self.conn.getresponse()
        response.read()
        return response.status, (time.perf_counter() - started) * 1000.0


def sign_in(base: str) -> str:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    conn.request("GET", "/ingresar")
    response = conn.getresponse()
    html = response.read().decode()
    cookie = response.getheader("set-cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    body = urlencode({"username": USER, "password": PASSWORD, "csrf_token": token})
    conn.request("POST", "/ingresar", body=body, headers={
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    if response.status != 303:
        raise SystemExit(f"sign-in failed: HTTP {response.status}")
    return response.getheader("set-cookie", "").split(";")[0]


def list_paths(rng: random.Random, profiles: list[str], n: int) -> list[str]:
    paths = []
    for _ in range(n):
        params: dict[str, str] = {"pagina": str(rng.randint(1, 40))}
        choice = rng.random()
        if choice < 0.2:
            params["perfil"] = rng.choice(profiles)
        elif choice < 0.35:
            params["ods"] = rng.choice(("11", "11.2", "4", "13.1", "6"))
        elif choice < 0.5:
            params["tipo"] = rng.choice(COOPERATION_TYPES[:4])
        elif choice < 0.6:
            params["cierre"] = rng.choice(("30", "90", "180"))
        if rng.random() < 0.3:
            params["orden"] = "cierre"
        if rng.random() < 0.2:
            params["puntaje"] = "0"
        if rng.random() < 0.1:
            params["estado"] = "todas"
        paths.append("/m/medellin/coincidencias?" + urlencode(params))
    return paths


def run_load(base: str, jobs: list[tuple[str, str]], concurrency: int) -> list[Sample]:
    cookie = sign_in(base)
    samples: list[Sample] = []
    lock = threading.Lock()
    queue = list(reversed(jobs))

    def worker() -> None:
        client = Client(base, cookie)
        while True:
            with lock:
                if not queue:
                    return
                kind, path = queue.pop()
            status, ms = client.get(path)
            with lock:
                samples.append(Sample(kind, ms, status))

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return samples


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--matches", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=400, help="per page kind, per concurrency level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args(argv)
    rng = random.Random(6)

    with tempfile.TemporaryDirectory(prefix="convoca-bench-web-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        started = time.perf_counter()
        counts = build_database(url, args.matches, rng)
        print(f"database: {counts['matches']:,} matches over {counts['opportunities']:,} opportunities "
              f"({time.perf_counter() - started:.1f} s to build)", flush=True)
        with session_scope(url) as session:
            profiles = list(session.scalars(select(Profile.slug).join(Municipality).where(Municipality.slug == "medellin")))
            detail_ids = list(session.scalars(select(Match.id).join(Municipality, Municipality.id == Match.municipality_id)
                                              .where(Municipality.slug == "medellin")))
        get_engine(url).dispose()

        env = {**os.environ, "CONVOCA_DATABASE_URL": url, "CONVOCA_SECRET_KEY": "bench-secret"}
        server = subprocess.Popen([sys.executable, "-m", "convoca", "serve", "--port", "0"], env=env,
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            found = re.search(r"http://[\d.]+:\d+", server.stdout.readline())
            if not found:
                raise SystemExit("convoca serve did not start")
            base = found.group(0)
            run_load(base, [("warmup", p) for p in list_paths(rng, profiles, 30)] +
                     [("warmup", f"/m/medellin/coincidencias/{i}") for i in rng.sample(detail_ids, 30)], 2)
            worst = 0.0
            for concurrency in args.concurrency:
                jobs = [("list", p) for p in list_paths(rng, profiles, args.requests)]
                jobs += [("detail", f"/m/medellin/coincidencias/{i}") for i in rng.choices(detail_ids, k=args.requests)]
                rng.shuffle(jobs)
                t0 = time.perf_counter()
                samples = run_load(base, jobs, concurrency)
                elapsed = time.perf_counter() - t0
                bad = [s for s in samples if s.status != 200]
                if bad:
                    raise SystemExit(f"{len(bad)} requests failed, e.g. HTTP {bad[0].status}")
                print(f"concurrency {concurrency}: {len(samples)} requests in {elapsed:.1f} s "
                      f"({len(samples) / elapsed:.0f} req/s)")
                for kind in ("list", "detail"):
                    ms = [s.ms for s in samples if s.kind == kind]
                    p50, p95 = statistics.median(ms), percentile(ms, 95)
                    worst = max(worst, p95)
                    print(f"  {kind:6s} n={len(ms):4d}  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  max {max(ms):6.1f} ms"
                          f"  p95/target {p95 / TARGET_P95_MS:.2f}")
        finally:
            server.terminate()
            server.wait(timeout=30)
        print(f"worst p95 {worst:.1f} ms; target {TARGET_P95_MS:.0f} ms; ratio {worst / TARGET_P95_MS:.2f} "
              f"({'met' if worst <= TARGET_P95_MS else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
