/**
 * What an environment's worker serves, derived from the agent's state alone: each model's
 * stable and candidate versions and their weights follow from its rollout state, so the same
 * state always gives the same `serve.yaml` — after a restart too. Pure.
 */
import { stringify } from 'yaml';
import type { ModelDeclaration } from './environment.js';
import type { ModelRolloutState } from './rollout-types.js';

/** The serve options of a declared model that the worker needs (plain JSON, kept in state). */
export type ServeSpec = Pick<
  ModelDeclaration,
  'runtime' | 'command' | 'threads' | 'batching' | 'sticky' | 'shadow'
>;

export function serveSpecOf(m: ModelDeclaration): ServeSpec {
  const { runtime, command, threads, batching, sticky, shadow } = m;
  return JSON.parse(
    JSON.stringify({ runtime, command, threads, batching, sticky, shadow }),
  ) as ServeSpec;
}

/** The model's serve options when they differ from those recorded, else undefined. */
export function changedSpec(
  recorded: ServeSpec | undefined,
  m: ModelDeclaration,
): ServeSpec | undefined {
  const spec = serveSpecOf(m);
  return JSON.stringify(spec) === JSON.stringify(recorded) ? undefined : spec;
}

/** A worker's version label: the first 12 hex digits of the ModelKit manifest digest. */
export function versionLabel(reference: string): string {
  const hex = /@sha256:([0-9a-f]{12})/.exec(reference)?.[1];
  if (hex === undefined) throw new Error(`Internal error: ${reference} names no sha256 digest`);
  return hex;
}

/** One model as the worker should serve it now. */
export interface LiveModel {
  readonly name: string;
  /** version label → ModelKit reference by digest, stable first */
  readonly versions: Readonly<Record<string, string>>;
  /** version label → percent, adding up to 100 */
  readonly weights: Readonly<Record<string, number>>;
  /** the candidate's label during a rollout */
  readonly candidate?: string;
  readonly spec: ServeSpec;
}

/** The versions and weights a rollout state means; undefined when it serves nothing yet. */
export function liveModel(
  name: string,
  s: ModelRolloutState,
  spec: ServeSpec,
): LiveModel | undefined {
  const stable = s.stable === undefined ? undefined : versionLabel(s.stable);
  const candidate = s.candidate === undefined ? undefined : versionLabel(s.candidate);
  const versions: Record<string, string> = {};
  if (stable !== undefined && s.stable !== undefined) versions[stable] = s.stable;
  if (candidate !== undefined && s.candidate !== undefined) versions[candidate] = s.candidate;
  let weights: Record<string, number>;
  if (stable === undefined) {
    // A first deploy: nothing to compare with, the candidate is all there is.
    if (candidate === undefined) return undefined;
    weights = { [candidate]: 100 };
  } else if (candidate === undefined || candidate === stable) {
    weights = { [stable]: 100 };
  } else {
    weights = { [stable]: 100 - s.candidateWeight, [candidate]: s.candidateWeight };
  }
  return {
    name,
    versions,
    weights,
    ...(candidate === undefined || stable === undefined ? {} : { candidate }),
    spec,
  };
}

/** `serve.yaml` for the worker (docs/serving.md). */
export function serveConfigText(models: readonly LiveModel[]): string {
  const doc: Record<string, unknown> = {};
  for (const m of models) {
    const { spec } = m;
    const shadow =
      spec.shadow !== undefined && m.candidate !== undefined
        ? { version: m.candidate, percent: spec.shadow.percent }
        : undefined;
    doc[m.name] = {
      runtime: spec.runtime,
      ...(spec.command === undefined ? {} : { command: spec.command }),
      ...(spec.threads === undefined ? {} : { threads: spec.threads }),
      ...(spec.batching === undefined ? {} : { batching: spec.batching }),
      versions: m.versions,
      traffic: m.weights,
      ...(spec.sticky === undefined ? {} : { sticky: spec.sticky }),
      ...(shadow === undefined ? {} : { shadow }),
    };
  }
  return (
    '# Written by cairn agent from its state; edits are overwritten.\n' +
    stringify({ apiVersion: 'cairn.dev/v1alpha1', kind: 'ServeConfig', models: doc })
  );
}

/** Weights with the zero entries dropped, for comparing what a worker reports. */
export function sameWeights(
  a: Readonly<Record<string, number>>,
  b: Readonly<Record<string, number>>,
): boolean {
  const norm = (w: Readonly<Record<string, number>>) =>
    Object.entries(w)
      .filter(([, v]) => v > 0)
      .sort(([x], [y]) => x.localeCompare(y));
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}
