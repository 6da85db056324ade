/**
 * The agent's sync, as functions: what git declares for each followed environment at a commit
 * (parsed, model names owned by the first environment that declares them, each ModelKit put in
 * the local store by digest), and which history entry the state now earns.
 */
import type { DesiredEnvironment } from './agent-env.js';
import type { GitSource } from './git-source.js';
import type { EnvironmentState, ReconciledRevision } from './state.js';

export interface Declared {
  readonly name: string;
  /** undefined when the manifest could not be read: the previous declaration stays */
  readonly desired?: DesiredEnvironment;
  /** what kept it from being applied in full */
  readonly reason?: string;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Reads each environment at `commit`; never throws for one environment's problem. */
export async function readDeclared(
  source: GitSource,
  commit: string,
  environments: readonly string[],
  fetchKit: (reference: string) => Promise<string>,
): Promise<Declared[]> {
  const owners = new Map<string, string>();
  const out: Declared[] = [];
  for (const name of environments) {
    const reasons: string[] = [];
    let desired: DesiredEnvironment | undefined;
    try {
      const env = await source.readEnvironment(commit, name);
      const owned = env.models.filter((m) => {
        const owner = owners.get(m.name);
        if (owner === undefined) owners.set(m.name, name);
        else reasons.push(`model ${m.name} is declared by environment ${owner} too; refused here`);
        return owner === undefined;
      });
      const pinned = new Map<string, string>();
      for (const m of owned) {
        try {
          pinned.set(m.name, await fetchKit(m.modelkit));
        } catch (error) {
          reasons.push(`model ${m.name}: ${message(error)}`);
        }
      }
      desired = { commit, env: { ...env, models: owned }, pinned };
    } catch (error) {
      reasons.push(message(error));
    }
    out.push({
      name,
      ...(desired === undefined ? {} : { desired }),
      ...(reasons.length === 0 ? {} : { reason: reasons.join('; ') }),
    });
  }
  return out;
}

/**
 * The history entry for the commit git declares now — applied (every model stable on its
 * declared digest), progressing, or failed (a rollout aborted, or a reason such as a parse
 * error) — or undefined when the newest entry already says so.
 */
export function revisionOutcome(
  e: EnvironmentState,
  d: DesiredEnvironment | undefined,
  now: number,
): ReconciledRevision | undefined {
  const commit = e.desiredCommit;
  if (commit === undefined) return undefined;
  let result: ReconciledRevision['result'];
  let why = e.reason;
  if (why !== undefined) result = 'failed';
  else if (d?.commit !== commit) return undefined;
  else {
    const failed = d.env.models.find((m) =>
      e.models[m.name]?.failed.some(
        (f) => f.commit === commit && f.digest === d.pinned.get(m.name),
      ),
    );
    why = failed === undefined ? undefined : e.models[failed.name]?.lastFailure?.reason;
    const applied = d.env.models.every((m) => {
      const s = e.models[m.name];
      return s?.phase === 'stable' && s.stable === d.pinned.get(m.name);
    });
    result = failed !== undefined ? 'failed' : applied ? 'applied' : 'progressing';
  }
  const last = e.history[0];
  if (last?.commit === commit && last.result === result) return undefined;
  return { commit, at: now, result, ...(why === undefined ? {} : { message: why }) };
}
