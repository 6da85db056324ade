/**
 * The `yaml` package, loaded on first use: a no-op repro answers from memoised JSON and should
 * not pay the ~100 ms of loading a YAML parser it does not need.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { Document, LineCounter, Node, Scalar, YAMLMap, YAMLSeq } from 'yaml';

const require = createRequire(import.meta.url);
let lib: typeof Yaml | undefined;

export function yamlLib(): typeof Yaml {
  lib ??= require('yaml') as typeof Yaml;
  return lib;
}

export const isMap = (n: unknown): n is YAMLMap => yamlLib().isMap(n);
export const isSeq = (n: unknown): n is YAMLSeq => yamlLib().isSeq(n);
export const isScalar = (n: unknown): n is Scalar => yamlLib().isScalar(n);
export const newLineCounter = (): LineCounter => new (yamlLib().LineCounter)();
export const parseDocument = (
  text: string,
  options: { lineCounter: LineCounter; uniqueKeys?: boolean },
): Document.Parsed => yamlLib().parseDocument(text, options);
export type { LineCounter, Node };

/** The first line of a `yaml` error, without its own " at line N, column M:" (we print file:line:col). */
export function yamlMessage(message: string): string {
  return (message.split('\n')[0] ?? 'invalid YAML').replace(/ at line \d+, column \d+:?$/, '');
}
