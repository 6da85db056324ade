"""The columns every stage agrees on: which are numeric, which is categorical, which is the label."""

NUMERIC = ["tenure_months", "monthly_charges", "support_calls", "data_usage_gb"]
CATEGORY = "contract"
LABEL = "churned"


def write_csv(frame, path):
    """pandas' CSV with fixed line endings and floats in their shortest round-trip form.

    Round-trip (repr) keeps every bit, so a reader gets exactly the float64 values written, and
    the same values always give the same bytes.
    """
    frame.to_csv(path, index=False, float_format=lambda v: repr(float(v)), lineterminator="\n")
