// export: the trained model as an ONNX file (opset 13) encoded with protobufjs from the
// onnx.proto subset beside this script: probabilities = Softmax(Gemm((x - mean) / std, W, b)).
import process from 'node:process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const [modelFile, onnxFile] = process.argv.slice(2);
const model = JSON.parse(fs.readFileSync(modelFile, 'utf8'));
const root = await protobuf.load(
  path.join(path.dirname(fileURLToPath(import.meta.url)), 'onnx.proto'),
);
const ModelProto = root.lookupType('onnx.ModelProto');
const FLOAT = 1;
const tensor = (name, dims, values) => ({ name, dims, dataType: FLOAT, floatData: values });
const valueInfo = (name, dims) => ({
  name,
  type: {
    tensorType: {
      elemType: FLOAT,
      shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
    },
  },
});
const nClasses = model.classes.length;
const message = {
  irVersion: 8,
  opsetImport: [{ domain: '', version: 13 }],
  producerName: 'cairn-quickstart',
  producerVersion: '1',
  docString: 'Softmax regression on the Iris data (examples/quickstart)',
  graph: {
    name: 'iris_softmax',
    node: [
      { opType: 'Sub', input: ['input', 'mean'], output: ['centered'], name: 'center' },
      { opType: 'Div', input: ['centered', 'std'], output: ['scaled'], name: 'scale' },
      { opType: 'Gemm', input: ['scaled', 'weights', 'bias'], output: ['logits'], name: 'linear' },
      {
        opType: 'Softmax',
        input: ['logits'],
        output: ['probabilities'],
        name: 'softmax',
        attribute: [{ name: 'axis', type: 2, i: 1 }],
      },
    ],
    initializer: [
      tensor('mean', [4], model.mean),
      tensor('std', [4], model.std),
      tensor('weights', [4, nClasses], model.weights.flat()),
      tensor('bias', [nClasses], model.bias),
    ],
    input: [valueInfo('input', ['batch', 4])],
    output: [valueInfo('probabilities', ['batch', nClasses])],
  },
  metadataProps: [{ key: 'classes', value: model.classes.join(',') }],
};
const invalid = ModelProto.verify(message);
if (invalid !== null) throw new Error(`internal error: ${invalid}`);
const bytes = ModelProto.encode(ModelProto.fromObject(message)).finish();
fs.mkdirSync(path.dirname(onnxFile), { recursive: true });
fs.writeFileSync(onnxFile, bytes);
process.stdout.write(`wrote ${onnxFile} (${bytes.length} bytes)\n`);
