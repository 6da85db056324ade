// export: the trained model as an ONNX file (opset 13): probabilities = Softmax(Gemm((x - mean)
// / std, W, b)). Encoded with the small protobuf writer beside this script; the field numbers
// are those of ONNX's onnx.proto, of which src/onnx.proto keeps the subset used here.
import { Buffer } from 'node:buffer';
import process from 'node:process';
import fs from 'node:fs';
import path from 'node:path';
import { int, message, packedFloats, string } from './protobuf.mjs';

const [modelFile, onnxFile] = process.argv.slice(2);
const model = JSON.parse(fs.readFileSync(modelFile, 'utf8'));
const FLOAT = 1; // TensorProto.DataType
const ATTRIBUTE_INT = 2; // AttributeProto.AttributeType

// TensorProto: dims = 1, data_type = 2, float_data = 4, name = 8.
const tensor = (field, name, dims, values) =>
  message(field, [
    ...dims.map((d) => int(1, d)),
    int(2, FLOAT),
    packedFloats(4, values),
    string(8, name),
  ]);

// ValueInfoProto { name = 1, type = 2 { tensor_type = 1 { elem_type = 1, shape = 2 { dim = 1 {
// dim_value = 1 | dim_param = 2 } } } } }.
const valueInfo = (field, name, dims) =>
  message(field, [
    string(1, name),
    message(2, [
      message(1, [
        int(1, FLOAT),
        message(
          2,
          dims.map((d) => message(1, [typeof d === 'string' ? string(2, d) : int(1, d)])),
        ),
      ]),
    ]),
  ]);

// NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5.
const node = (opType, inputs, outputs, name, attributes = []) =>
  message(1, [
    ...inputs.map((i) => string(1, i)),
    ...outputs.map((o) => string(2, o)),
    string(3, name),
    string(4, opType),
    ...attributes,
  ]);

const nClasses = model.classes.length;
const graph = message(7, [
  node('Sub', ['input', 'mean'], ['centered'], 'center'),
  node('Div', ['centered', 'std'], ['scaled'], 'scale'),
  node('Gemm', ['scaled', 'weights', 'bias'], ['logits'], 'linear'),
  // AttributeProto: name = 1, i = 3, type = 20.
  node('Softmax', ['logits'], ['probabilities'], 'softmax', [
    message(5, [string(1, 'axis'), int(3, 1), int(20, ATTRIBUTE_INT)]),
  ]),
  string(2, 'iris_softmax'),
  tensor(5, 'mean', [4], model.mean),
  tensor(5, 'std', [4], model.std),
  tensor(5, 'weights', [4, nClasses], model.weights.flat()),
  tensor(5, 'bias', [nClasses], model.bias),
  valueInfo(11, 'input', ['batch', 4]),
  valueInfo(12, 'probabilities', ['batch', nClasses]),
]);
// ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, doc_string = 6,
// graph = 7, opset_import = 8 { domain = 1, version = 2 }, metadata_props = 14 { key, value }.
const bytes = Buffer.concat([
  int(1, 8),
  string(2, 'cairn-quickstart'),
  string(3, '1'),
  string(6, 'Softmax regression on the Iris data (examples/quickstart)'),
  graph,
  message(8, [string(1, ''), int(2, 13)]),
  message(14, [string(1, 'classes'), string(2, model.classes.join(','))]),
]);
fs.mkdirSync(path.dirname(onnxFile), { recursive: true });
fs.writeFileSync(onnxFile, bytes);
process.stdout.write(`wrote ${onnxFile} (${bytes.length} bytes)\n`);
