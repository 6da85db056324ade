"""Builds the ONNX models the serving benchmark loads, with onnx.helper and seeded numpy:
mlp.onnx (64 -> 256 -> 256 -> 10, ReLU, softmax; dynamic batch), mnist-mlp.onnx (the classic
MNIST-sized MLP, 784 -> 512 -> 512 -> 10, same layers) and big.onnx (a 1024 x 2560 dense layer,
about 10 MB of weights; dynamic batch). Usage: serve-models.py OUT_DIR"""
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(7)


def dense(name, n_in, n_out):
    w = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32)
    b = (rng.standard_normal(n_out) * 0.01).astype(np.float32)
    return [numpy_helper.from_array(w, f"{name}_w"), numpy_helper.from_array(b, f"{name}_b")]


def save(path, graph):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="cairn-bench")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))


def mlp(path, sizes):
    inits, nodes, prev = [], [], "input"
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        name = f"l{i + 1}"
        inits += dense(name, n_in, n_out)
        nodes.append(helper.make_node("Gemm", [prev, f"{name}_w", f"{name}_b"], [f"{name}_z"]))
        prev = f"{name}_z"
        if i < len(sizes) - 2:
            nodes.append(helper.make_node("Relu", [prev], [f"{name}_a"]))
            prev = f"{name}_a"
    nodes.append(helper.make_node("Softmax", [prev], ["probabilities"], axis=1))
    save(path, helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", sizes[0]])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", sizes[-1]])],
        inits))


mlp(out / "mlp.onnx", [64, 256, 256, 10])

save(out / "big.onnx", helper.make_graph(
    [helper.make_node("Gemm", ["input", "big_w", "big_b"], ["output"])], "big",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1024])],
    [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 2560])],
    dense("big", 1024, 2560)))

mlp(out / "mnist-mlp.onnx", [784, 512, 512, 10])
