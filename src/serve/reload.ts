/**
 * `cairn serve`'s SIGHUP: the config file read again and applied to a running repository —
 * new versions loaded before anything routes to them, traffic policies swapped whole, dropped
 * versions unloaded after their requests in flight — so a reload loses no request.
 */
import { CairnError } from '../core/errors.js';
import { readServeConfig, type ModelConfig, type ServeConfig } from './config.js';
import { policyOf } from './config-models.js';
import type { ModelRepository } from './repository.js';
import { TrafficRouter } from './traffic.js';
import type { ServedVersion } from './types.js';

/** What a reload did, per model. */
export interface ReloadResult {
  /** models whose traffic policy was replaced */
  readonly traffic: readonly string[];
  /** `model/version` loaded by this reload */
  readonly loaded: readonly string[];
  /** `model/version` unloaded by this reload (after their requests in flight) */
  readonly unloaded: readonly string[];
}

/**
 * SIGHUP: re-reads the config; loads the versions (and models) it now declares, swaps every
 * config model's traffic policy, then unloads the versions (and models) it no longer declares
 * once their requests in flight are done. Every policy is checked before anything changes; a
 * version that fails to load leaves the traffic as it was. A label whose source changed keeps
 * its loaded runtime (unload and reload it, or restart, to pick up new bytes).
 */
export async function reloadConfig(
  file: string | undefined,
  cwd: string,
  repo: ModelRepository,
  /** the config applied now; `apply` makes the new one current (see ModelSources) */
  previous: { readonly config: ServeConfig | undefined; apply(config: ServeConfig): void },
  loadVersion: (
    config: ServeConfig,
    m: ModelConfig,
    label: string,
    source: string,
  ) => Promise<ServedVersion>,
): Promise<ReloadResult> {
  if (file === undefined) return { traffic: [], loaded: [], unloaded: [] };
  const config = await readServeConfig(file, cwd);
  const policies = config.models.map((m) => policyOf(m));
  const servedOf = (model: string) =>
    repo
      .all()
      .filter((v) => v.model === model)
      .map((v) => v.version);
  const fromArgs = new Set(
    repo
      .all()
      .map((v) => v.model)
      .filter((name) => !(previous.config?.models.some((m) => m.name === name) ?? false)),
  );
  const clash = config.models.find((m) => fromArgs.has(m.name));
  if (clash !== undefined)
    throw new CairnError(
      'serve-reload',
      `${config.file}: model ${clash.name} is already served from a command-line SOURCE`,
      { hint: 'Rename the model in the config, or restart without that SOURCE.' },
    );
  const added: ServedVersion[] = [];
  try {
    for (const m of config.models) {
      const served = servedOf(m.name);
      for (const [label, source] of m.versions) {
        if (!served.includes(label)) added.push(await loadVersion(config, m, label, source));
      }
    }
  } catch (error) {
    await Promise.all(added.map((v) => v.runtime.close()));
    throw error;
  }
  for (const v of added) repo.add(v);
  for (const policy of policies) {
    const router = repo.traffic(policy.model);
    if (router === undefined) repo.setTraffic(new TrafficRouter(policy));
    else router.set(policy);
  }
  const unloaded: string[] = [];
  const going: Promise<unknown>[] = [];
  for (const old of previous.config?.models ?? []) {
    const now = config.models.find((m) => m.name === old.name);
    for (const label of servedOf(old.name)) {
      if (now?.versions.has(label) === true) continue;
      unloaded.push(`${old.name}/${label}`);
      going.push(repo.unload(old.name, label));
    }
  }
  previous.apply(config);
  await Promise.all(going);
  return {
    traffic: policies.map((p) => p.model),
    loaded: added.map((v) => `${v.model}/${v.version}`),
    unloaded,
  };
}
