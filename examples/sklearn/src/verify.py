"""verify: runs model.onnx (via onnx_eval.py) on the test inputs; fails unless it answers as scikit-learn did."""
import argparse
import json
import sys

import numpy as np
import onnx
import pandas as pd

import onnx_eval
from features import CATEGORY, NUMERIC


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model_onnx")
    parser.add_argument("predictions_csv")
    parser.add_argument("out_json")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()

    model = onnx.load(args.model_onnx)
    onnx.checker.check_model(model, full_check=True)
    expected = pd.read_csv(args.predictions_csv)
    outputs = onnx_eval.run(
        model,
        {
            "numeric": expected[NUMERIC].to_numpy(dtype=np.float32),
            "category": expected[[CATEGORY]].to_numpy(dtype=object).astype(str).astype(object),
        },
    )
    want = expected[["probability_0", "probability_1"]].to_numpy()
    diff = np.abs(outputs["probabilities"].astype(np.float64) - want)
    worst = int(diff.max(axis=1).argmax())
    # float32 against float64: a row whose probability is within the tolerance of 0.5 may
    # legitimately round to the other label.
    decided = np.abs(want[:, 1] - 0.5) > args.tolerance
    label_mismatches = np.flatnonzero(decided & (outputs["label"] != expected["label"].to_numpy()))
    report = {
        "rows": int(len(expected)),
        "max_abs_diff": float(f"{diff.max():.3g}"),
        "label_mismatches": int(len(label_mismatches)),
        "tolerance": args.tolerance,
    }
    with open(args.out_json, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    if diff.max() > args.tolerance or len(label_mismatches) > 0:
        row = int(label_mismatches[0]) if len(label_mismatches) else worst
        sys.exit(
            f"verify: {args.model_onnx} disagrees with scikit-learn on {args.predictions_csv}: "
            f"max |probability difference| {diff.max():.3g} (tolerance {args.tolerance}), "
            f"{len(label_mismatches)} label(s) differ; first bad row {row + 2} of the CSV: "
            f"onnx {outputs['probabilities'][row].tolist()} label {int(outputs['label'][row])}, "
            f"sklearn {want[row].tolist()} label {int(expected['label'][row])}. "
            "Re-check src/export_onnx.py against the pipeline in src/train.py."
        )
    print(f"verify: model.onnx matches scikit-learn on {len(expected)} rows "
          f"(max |difference| {report['max_abs_diff']})")


if __name__ == "__main__":
    main()
