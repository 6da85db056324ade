"""evaluate: scores the scikit-learn model on the test split; writes metrics, plot data and predictions."""
import argparse
import json
import os

import joblib
import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score, roc_curve

from features import CATEGORY, LABEL, NUMERIC, write_csv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model")
    parser.add_argument("test_csv")
    parser.add_argument("out_dir")
    args = parser.parse_args()

    model = joblib.load(args.model)
    test = pd.read_csv(args.test_csv)
    inputs = test[[*NUMERIC, CATEGORY]]
    actual = test[LABEL].to_numpy()
    probabilities = model.predict_proba(inputs)
    predicted = model.predict(inputs)
    os.makedirs(args.out_dir, exist_ok=True)

    metrics = {
        "accuracy": round(float(accuracy_score(actual, predicted)), 6),
        "roc_auc": round(float(roc_auc_score(actual, probabilities[:, 1])), 6),
        "f1": round(float(f1_score(actual, predicted)), 6),
        "test_rows": int(len(test)),
    }
    with open(os.path.join(args.out_dir, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
        f.write("\n")

    fpr, tpr, thresholds = roc_curve(actual, probabilities[:, 1])
    # scikit-learn's first threshold lies above every score (max + 1, or inf since 1.3); clip it so
    # the file stays valid JSON.
    thresholds = np.minimum(thresholds, 1.0)
    roc = {"roc": [{"fpr": round(float(a), 6), "tpr": round(float(b), 6), "threshold": round(float(t), 6)}
                   for a, b, t in zip(fpr, tpr, thresholds)]}
    with open(os.path.join(args.out_dir, "roc.json"), "w") as f:
        json.dump(roc, f, indent=1)
        f.write("\n")

    write_csv(pd.DataFrame({"actual": actual, "predicted": predicted}),
              os.path.join(args.out_dir, "confusion.csv"))

    # The test inputs with scikit-learn's answers: verify.py and serving tests replay them on model.onnx.
    predictions = test[[CATEGORY, *NUMERIC]].copy()
    predictions["label"] = predicted
    predictions["probability_0"] = probabilities[:, 0]
    predictions["probability_1"] = probabilities[:, 1]
    write_csv(predictions, os.path.join(args.out_dir, "predictions.csv"))
    print("evaluate: " + ", ".join(f"{k} {v}" for k, v in metrics.items()))


if __name__ == "__main__":
    main()
