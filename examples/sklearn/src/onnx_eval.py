"""A small numpy interpreter for exactly the ONNX operators export_onnx.py emits.

onnx 1.12 has no reference evaluator and onnxruntime is not installed for Python here, so the
pipeline checks the exported file with this: it reads the graph's nodes, initializers and
attributes from the .onnx file and computes in float32, as a runtime would.
"""
import numpy as np
from onnx import ModelProto, helper, numpy_helper

SUPPORTED_OPSETS = {"": 13, "ai.onnx.ml": 1}


def _sub(x, attrs):
    return [x[0] - x[1]]


def _div(x, attrs):
    return [x[0] / x[1]]


def _flatten(x, attrs):
    axis = attrs.get("axis", 1)
    shape = x[0].shape
    return [x[0].reshape(int(np.prod(shape[:axis])), -1)]


def _concat(x, attrs):
    return [np.concatenate(x, axis=attrs["axis"])]


def _gemm(x, attrs):
    a = x[0].T if attrs.get("transA", 0) else x[0]
    b = x[1].T if attrs.get("transB", 0) else x[1]
    y = np.float32(attrs.get("alpha", 1.0)) * (a @ b)
    if len(x) > 2:
        y = y + np.float32(attrs.get("beta", 1.0)) * x[2]
    return [y.astype(np.float32)]


def _softmax(x, attrs):
    axis = attrs.get("axis", -1)
    e = np.exp(x[0] - x[0].max(axis=axis, keepdims=True))
    return [e / e.sum(axis=axis, keepdims=True)]


def _argmax(x, attrs):
    if attrs.get("select_last_index", 0):
        raise ValueError("ArgMax select_last_index=1 is not implemented")
    axis = attrs.get("axis", 0)
    y = np.argmax(x[0], axis=axis).astype(np.int64)
    return [np.expand_dims(y, axis) if attrs.get("keepdims", 1) else y]


def _one_hot_encoder(x, attrs):
    if "cats_strings" in attrs:
        categories = [c.decode("utf-8") for c in attrs["cats_strings"]]
        values = x[0].astype(str)
    else:
        categories = list(attrs["cats_int64s"])
        values = x[0].astype(np.int64)
    index = {c: i for i, c in enumerate(categories)}
    out = np.zeros(values.shape + (len(categories),), dtype=np.float32)
    for position, value in np.ndenumerate(values):
        hit = index.get(value.item() if hasattr(value, "item") else value)
        if hit is not None:
            out[position + (hit,)] = 1.0
        elif attrs.get("zeros", 1) == 0:
            raise ValueError(f"OneHotEncoder: unknown category {value!r} and zeros=0")
    return [out]


OPS = {
    ("", "Sub"): _sub,
    ("", "Div"): _div,
    ("", "Flatten"): _flatten,
    ("", "Concat"): _concat,
    ("", "Gemm"): _gemm,
    ("", "Softmax"): _softmax,
    ("", "ArgMax"): _argmax,
    ("ai.onnx.ml", "OneHotEncoder"): _one_hot_encoder,
}


def run(model: ModelProto, feeds: dict) -> dict:
    """Runs the graph on `feeds` (input name -> numpy array); returns output name -> array."""
    for opset in model.opset_import:
        if SUPPORTED_OPSETS.get(opset.domain) != opset.version:
            raise ValueError(f"opset {opset.domain or 'ai.onnx'} {opset.version} is not the one this "
                             f"evaluator implements ({SUPPORTED_OPSETS})")
    values = dict(feeds)
    for tensor in model.graph.initializer:
        values[tensor.name] = numpy_helper.to_array(tensor)
    for node in model.graph.node:
        op = OPS.get((node.domain, node.op_type))
        if op is None:
            raise ValueError(f"node {node.name!r}: operator {node.domain or 'ai.onnx'}.{node.op_type} "
                             "is not implemented by onnx_eval.py")
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        outputs = op([values[name] for name in node.input], attrs)
        values.update(zip(node.output, outputs))
    return {o.name: values[o.name] for o in model.graph.output}
