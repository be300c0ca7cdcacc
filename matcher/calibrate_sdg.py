"""Measure one backend's per-goal similarity spread on unlabelled reference texts.

    python -m matcher.calibrate_sdg --backend use-multilingual FILE.csv [FILE.csv …]

Only the `text` column is read; labels are never looked at. The result is written to
matcher/resources/sdg_calibration.json under the backend's model id. The shipped entries were
measured on the texts of the SDG benchmark's dev.csv (../shared/eval/sdg-benchmark).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from matcher.embedding import make_embedder
from matcher.sdg import SdgTagger, write_calibration


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--backend", default="use-multilingual")
    args = parser.parse_args(argv)
    texts: list[str] = []
    for path in args.files:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            texts.extend(row["text"] for row in csv.DictReader(fh) if row.get("text"))
    texts = list(dict.fromkeys(texts))
    tagger = SdgTagger(make_embedder(args.backend))
    corpus = ", ".join(p.name for p in args.files) + f" ({len(texts)} texts, unlabelled)"
    calibration = write_calibration(tagger, texts, corpus)
    print(f"{tagger.embedder.model_id}: mean {calibration.mean.round(3).tolist()}")


if __name__ == "__main__":
    main()
