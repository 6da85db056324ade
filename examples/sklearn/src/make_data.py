"""Writes data/churn.csv: a synthetic telecom churn table, the same bytes on every run.

Run once by the example's author; the CSV it wrote is shipped, so users only need
`python3 src/make_data.py` to check that it regenerates byte for byte (or to make a bigger one).
"""
import argparse

import numpy as np
import pandas as pd

from features import write_csv

CONTRACTS = ["month-to-month", "one-year", "two-year"]


def generate(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    contract = rng.choice(CONTRACTS, size=rows, p=[0.5, 0.3, 0.2])
    tenure = rng.integers(1, 73, size=rows)
    monthly = np.round(rng.uniform(20.0, 120.0, size=rows), 2)
    calls = rng.poisson(1.5, size=rows)
    usage = np.round(rng.gamma(2.0, 8.0, size=rows), 1)
    # The churn odds the model has to recover: short, expensive month-to-month contracts with many
    # support calls churn; long two-year ones stay. Usage is noise the model should learn to ignore.
    contract_effect = np.select(
        [contract == "month-to-month", contract == "one-year"], [2.0, -0.3], default=-2.2
    )
    logit = (
        contract_effect
        - 0.08 * (tenure - 36)
        + 0.05 * (monthly - 70)
        + 1.0 * (calls - 1.5)
        - 0.6
    )
    churned = (rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "contract": contract,
            "tenure_months": tenure,
            "monthly_charges": monthly,
            "support_calls": calls,
            "data_usage_gb": usage,
            "churned": churned,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", nargs="?", default="data/churn.csv")
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=20240521)
    args = parser.parse_args()
    write_csv(generate(args.rows, args.seed), args.out)


if __name__ == "__main__":
    main()
