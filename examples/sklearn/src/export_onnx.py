"""Writes a fitted scaler + one-hot + logistic-regression pipeline as an ONNX graph with onnx.helper.

Interface (what a server feeds and gets back):
  inputs   numeric        float32 [batch, k]  the NUMERIC columns, in order
           category       string  [batch, 1]  the CATEGORY column
  outputs  label          int64   [batch]     0 or 1
           probabilities  float32 [batch, 2]  P(label = 0), P(label = 1)

Graph: Sub, Div (standardise) | OneHotEncoder (ai.onnx.ml), Flatten | Concat, Gemm, Softmax, ArgMax.
The binary logistic regression becomes a two-column Gemm whose first column is zero, so Softmax
of [0, z] yields [1 - sigmoid(z), sigmoid(z)], exactly predict_proba.
"""
import numpy as np
from onnx import ModelProto, TensorProto, helper, numpy_helper

OPSET = 13
ML_OPSET = 1
# Pinned so a newer onnx package (whose default IR version is higher) writes the same bytes.
IR_VERSION = 8
BATCH = "batch"


def to_onnx(pipeline, numeric: list, category: str) -> ModelProto:
    preprocess = pipeline.named_steps["preprocess"]
    scaler = preprocess.named_transformers_["numeric"]
    encoder = preprocess.named_transformers_["category"]
    classifier = pipeline.named_steps["classifier"]
    if list(classifier.classes_) != [0, 1]:
        raise SystemExit(f"export: expected labels [0, 1], got {list(classifier.classes_)}")
    categories = [str(c) for c in encoder.categories_[0]]
    width = len(numeric) + len(categories)
    if classifier.coef_.shape != (1, width):
        raise SystemExit(f"export: expected {width} coefficients, got shape {classifier.coef_.shape}")

    # ColumnTransformer concatenates its transformers in declaration order: numeric, then one-hot.
    weights = np.zeros((width, 2), dtype=np.float32)
    weights[:, 1] = classifier.coef_[0]
    bias = np.array([0.0, classifier.intercept_[0]], dtype=np.float32)
    initializers = [
        numpy_helper.from_array(scaler.mean_.astype(np.float32), "mean"),
        numpy_helper.from_array(scaler.scale_.astype(np.float32), "scale"),
        numpy_helper.from_array(weights, "weights"),
        numpy_helper.from_array(bias, "bias"),
    ]
    nodes = [
        helper.make_node("Sub", ["numeric", "mean"], ["centred"], name="standardise_sub"),
        helper.make_node("Div", ["centred", "scale"], ["scaled"], name="standardise_div"),
        helper.make_node(
            "OneHotEncoder", ["category"], ["one_hot_3d"], name="one_hot",
            domain="ai.onnx.ml", cats_strings=categories, zeros=1,
        ),
        helper.make_node("Flatten", ["one_hot_3d"], ["one_hot"], name="one_hot_flatten", axis=1),
        helper.make_node("Concat", ["scaled", "one_hot"], ["features"], name="features", axis=1),
        helper.make_node("Gemm", ["features", "weights", "bias"], ["logits"], name="linear"),
        helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1),
        helper.make_node("ArgMax", ["probabilities"], ["label"], name="argmax", axis=1, keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "churn_classifier",
        inputs=[
            helper.make_tensor_value_info("numeric", TensorProto.FLOAT, [BATCH, len(numeric)]),
            helper.make_tensor_value_info("category", TensorProto.STRING, [BATCH, 1]),
        ],
        outputs=[
            helper.make_tensor_value_info("label", TensorProto.INT64, [BATCH]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [BATCH, 2]),
        ],
        initializer=initializers,
        # onnx has no shape inference for ai.onnx.ml's OneHotEncoder; declared here so the strict
        # checker can type everything downstream of it.
        value_info=[
            helper.make_tensor_value_info("one_hot_3d", TensorProto.FLOAT, [BATCH, 1, len(categories)]),
        ],
    )
    model = helper.make_model(
        graph,
        # Fixed strings, not library versions: the same fit must give the same bytes anywhere.
        producer_name="cairn-examples-sklearn",
        producer_version="1",
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)],
        doc_string="Churn classifier: scikit-learn StandardScaler + OneHotEncoder + LogisticRegression.",
    )
    model.ir_version = IR_VERSION
    helper.set_model_props(
        model,
        {
            "numeric_features": ",".join(numeric),
            "category_feature": category,
            "categories": ",".join(categories),
            "labels": "0,1",
        },
    )
    return model
