"""What a user runs instead of lossdoctor on a binary dataset too large for memory.

    python benchmarks/peers.py polars DIR     # polars' streaming engine
    python benchmarks/peers.py duckdb DIR     # DuckDB, window ranks in SQL

DIR holds Parquet files with a `label` column (0/1) and a `prob` column (P(class 1)). Each
engine computes the three numbers most asked of such predictions, as scikit-learn defines them:

- ROC-AUC by average ranks (Mann-Whitney): (sum of the positives' ranks - P(P+1)/2) / (P·N),
  ties ranked by their average, which is roc_auc_score's value;
- log loss: the mean of -log(p) over the positives and -log(1 - p) over the negatives, p
  clipped to [eps, 1 - eps] of its float type as log_loss does;
- accuracy at the threshold 0.5 (prob >= 0.5 predicts 1), as lossdoctor's report does.

It prints them as JSON under the names lossdoctor's JSON report uses, so the benchmark can check
that the three tools agree. Neither engine is a dependency of lossdoctor: `make bench`
installs them (the `bench` extra).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

THRESHOLD = 0.5
EPS32 = float.fromhex("0x1p-23")  # numpy.finfo(float32).eps: the scores are float32


def with_polars(files: str) -> dict[str, float]:
    import polars as pl

    label = pl.col("label").cast(pl.Float64)
    prob = pl.col("prob").cast(pl.Float64)
    clipped = prob.clip(EPS32, 1 - EPS32)
    positives = label.sum()
    negatives = pl.len() - positives
    ranks = pl.col("prob").rank("average")
    numbers = (
        pl.scan_parquet(files)
        .select(
            roc_auc=((ranks * label).sum() - positives * (positives + 1) / 2)
            / (positives * negatives),
            log_loss=-(label * clipped.log() + (1 - label) * (1 - clipped).log()).mean(),
            accuracy=((prob >= THRESHOLD).cast(pl.Float64) == label).mean(),
        )
        .collect(engine="streaming")
    )
    return {name: float(numbers[name][0]) for name in numbers.columns}


def with_duckdb(files: str) -> dict[str, float]:
    import duckdb

    eps = repr(EPS32)
    row = (
        duckdb.connect()
        .execute(
            f"""
        WITH ranked AS (
            SELECT label::DOUBLE AS y, prob::DOUBLE AS p,
                   rank() OVER (ORDER BY prob)
                     + (count(*) OVER (PARTITION BY prob) - 1) / 2.0 AS r
            FROM read_parquet('{files}')
        ),
        sums AS (
            SELECT sum(y) AS pos, count(*) - sum(y) AS neg, sum(r * y) AS rank_sum,
                   avg(-(y * ln(greatest(least(p, 1 - {eps}), {eps}))
                        + (1 - y) * ln(1 - greatest(least(p, 1 - {eps}), {eps})))) AS log_loss,
                   avg(CASE WHEN (p >= {THRESHOLD}) = (y = 1) THEN 1.0 ELSE 0.0 END)
                     AS accuracy
            FROM ranked
        )
        SELECT (rank_sum - pos * (pos + 1) / 2) / (pos * neg), log_loss, accuracy FROM sums
        """
        )
        .fetchone()
    )
    return dict(zip(("roc_auc", "log_loss", "accuracy"), map(float, row), strict=True))


ENGINES = {"polars": with_polars, "duckdb": with_duckdb}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ENGINES:
        print(f"usage: peers.py {{{','.join(ENGINES)}}} DIR", file=sys.stderr)
        return 2
    files = str(Path(argv[1]) / "*.parquet")
    print(json.dumps({"metrics": ENGINES[argv[0]](files)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
