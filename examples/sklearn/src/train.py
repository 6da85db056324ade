"""train: fits standardisation + one-hot + logistic regression, saves it, and exports it to ONNX."""
import argparse
import os

import joblib
import onnx
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from export_onnx import to_onnx
from features import CATEGORY, LABEL, NUMERIC


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("train_csv")
    parser.add_argument("model_dir")
    parser.add_argument("--C", type=float, required=True)
    parser.add_argument("--max_iter", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args()

    train = pd.read_csv(args.train_csv)
    model = Pipeline(
        [
            (
                "preprocess",
                ColumnTransformer(
                    [
                        ("numeric", StandardScaler(), NUMERIC),
                        # Unknown contracts become all zeros, as the ONNX OneHotEncoder does with zeros=1.
                        ("category", OneHotEncoder(handle_unknown="ignore", sparse_output=False), [CATEGORY]),
                    ]
                ),
            ),
            ("classifier", LogisticRegression(C=args.C, max_iter=args.max_iter, random_state=args.seed)),
        ]
    )
    model.fit(train[[*NUMERIC, CATEGORY]], train[LABEL])
    if model.named_steps["classifier"].n_iter_[0] >= args.max_iter:
        raise SystemExit(f"train: logistic regression did not converge in {args.max_iter} iterations; "
                         "raise train.max_iter in params.yaml")

    os.makedirs(args.model_dir, exist_ok=True)
    joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
    exported = to_onnx(model, NUMERIC, CATEGORY)
    onnx.checker.check_model(exported, full_check=True)
    onnx.save(exported, os.path.join(args.model_dir, "model.onnx"))
    print(f"train: fitted on {len(train)} rows; model.onnx has {len(exported.graph.node)} nodes")


if __name__ == "__main__":
    main()
