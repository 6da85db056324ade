"""prepare: a seeded, stratified train/test split of the raw CSV."""
import argparse
import os

import pandas as pd
from sklearn.model_selection import train_test_split

from features import CATEGORY, LABEL, NUMERIC, write_csv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data")
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--test_size", type=float, required=True)
    args = parser.parse_args()

    frame = pd.read_csv(args.data)
    missing = [c for c in [CATEGORY, *NUMERIC, LABEL] if c not in frame.columns]
    if missing:
        raise SystemExit(f"{args.data}: missing column(s) {', '.join(missing)}; expected {CATEGORY}, "
                         f"{', '.join(NUMERIC)} and {LABEL}")
    train, test = train_test_split(
        frame, test_size=args.test_size, random_state=args.seed, stratify=frame[LABEL]
    )
    os.makedirs(args.out_dir, exist_ok=True)
    write_csv(train, os.path.join(args.out_dir, "train.csv"))
    write_csv(test, os.path.join(args.out_dir, "test.csv"))
    print(f"prepare: {len(train)} training rows, {len(test)} test rows")


if __name__ == "__main__":
    main()
