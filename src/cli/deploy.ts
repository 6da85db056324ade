/** Text renderings of the GitOps commands: deploy, promote, rollback, history, render k8s. */
import type { RenderResult } from '../commands/deploy.js';
import { formatCanary } from '../deploy/canary.js';
import type { Committed } from '../deploy/gitops.js';
import type { HistoryEntry } from '../deploy/operations.js';
import { renderedStream } from '../deploy/render-k8s.js';

const shortDigest = (ref: string): string =>
  ref.replace(/@sha256:([0-9a-f]{12})[0-9a-f]{52}$/, '@sha256:$1…');

export function formatCommitted(c: Committed): string {
  const verb = { deploy: 'Deployed', promote: 'Promoted', rollback: 'Rolled back' }[c.action];
  const lines = c.changes.map(
    (m) =>
      `  ${m.model}: ${m.previous === undefined ? '(new)' : shortDigest(m.previous)} -> ${m.modelkit}` +
      (m.canary === undefined ? '' : ` (canary ${formatCanary(m.canary)})`),
  );
  const pushed = c.pushed === undefined ? [] : [`Pushed to ${c.pushed.remote} ${c.pushed.ref}.`];
  return [`${verb} ${c.environment} in commit ${c.commit.slice(0, 12)}:`, ...lines, ...pushed].join(
    '\n',
  );
}

export function formatHistory(env: string, entries: readonly HistoryEntry[]): string {
  if (entries.length === 0) return `environments/${env}.yaml has no history yet`;
  return entries
    .map((e) => {
      const models = Object.entries(e.models)
        .map(([name, ref]) => `${name}=${shortDigest(ref)}`)
        .join(' ');
      return `${e.commit.slice(0, 12)}  ${e.date.slice(0, 19).replace('T', ' ')}  ${e.action.padEnd(8)}  ${models}  (${e.author})`;
    })
    .join('\n');
}

export function formatRendered(r: RenderResult): string {
  if (r.dir === undefined) return renderedStream(r.files);
  return `Wrote ${String(r.files.length)} files to ${r.dir}:\n${r.files.map((f) => `  ${f.path}`).join('\n')}`;
}
