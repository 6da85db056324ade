/**
 * Writes ModelKit references into an environment manifest the way a careful person would: an
 * existing `modelkit:` value is replaced in place, byte for byte around it, so the user's
 * comments, quoting and layout survive; a model the file lacks is added as a new entry; a file
 * that does not exist yet is created from a minimal template.
 */
import { CairnError } from '../core/errors.js';
import { newLineCounter, parseDocument, yamlLib } from '../core/yaml-lib.js';
import { API_VERSION } from './environment.js';

/** A new manifest declaring one model. */
export function newEnvironmentText(env: string, model: string, modelkit: string): string {
  return [
    `# What environment '${env}' serves; written by \`cairn deploy\`, edited by people too.`,
    `# Schema: docs/environment.schema.json`,
    `apiVersion: ${API_VERSION}`,
    'kind: Environment',
    'metadata:',
    `  name: ${env}`,
    'spec:',
    '  models:',
    `    ${model}:`,
    `      modelkit: ${modelkit}`,
    '',
  ].join('\n');
}

/** `text` with model `model`'s `modelkit` set to `modelkit` (added when the model is new). */
export function setModelKit(file: string, text: string, model: string, modelkit: string): string {
  const { isMap, isScalar } = yamlLib();
  const lines = newLineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new CairnError('manifest-invalid', `${file}: not valid YAML; fix it before deploying`);
  }
  const models = doc.getIn(['spec', 'models'], true);
  if (!isMap(models)) {
    throw new CairnError('manifest-invalid', `${file}: spec.models is missing or not a mapping`, {
      hint: 'Add `spec:` with a `models:` mapping (see docs/deploy.md).',
    });
  }
  const current = doc.getIn(['spec', 'models', model, 'modelkit'], true);
  if (isScalar(current) && current.range !== undefined && current.range !== null) {
    const [start, valueEnd] = current.range;
    return `${text.slice(0, start)}${modelkit}${text.slice(valueEnd)}`;
  }
  if (doc.hasIn(['spec', 'models', model])) {
    doc.setIn(['spec', 'models', model, 'modelkit'], modelkit);
  } else {
    doc.setIn(['spec', 'models', model], doc.createNode({ modelkit }));
  }
  return doc.toString();
}

/** The `modelkit` of every model in a manifest's text, by model name (no validation). */
export function declaredModelKits(text: string): Map<string, string> {
  const { isMap, isScalar } = yamlLib();
  const doc = parseDocument(text, { lineCounter: newLineCounter(), uniqueKeys: true });
  const found = new Map<string, string>();
  const models = doc.getIn(['spec', 'models'], true);
  if (!isMap(models)) return found;
  for (const pair of models.items) {
    if (!isScalar(pair.key) || !isMap(pair.value)) continue;
    const ref = pair.value.get('modelkit');
    if (typeof ref === 'string') found.set(String(pair.key.value), ref);
  }
  return found;
}
