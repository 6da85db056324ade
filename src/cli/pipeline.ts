/**
 * Text renderings of the pipeline commands: repro's events and summary in DVC's wording (stage
 * output prefixed with the stage name when several stages may interleave), and `dag`.
 */
import type { DagView } from '../pipeline/dag.js';
import type { ReproEvent } from '../core/events.js';
import { lockWaitLine } from './events.js';
import type { ReproResult } from '../pipeline/executor.js';

export interface RenderTarget {
  out: (line: string) => void;
  err: (line: string) => void;
  /** prefix stage output with `stage | ` */
  prefix: boolean;
  quiet: boolean;
}

export function renderEvent(e: ReproEvent, t: RenderTarget): void {
  switch (e.type) {
    case 'stage-start':
      if (!t.quiet) t.out(`Running stage '${e.stage}':`);
      return;
    case 'stage-command':
      if (!t.quiet) t.out(`> ${e.command}`);
      return;
    case 'stage-output': {
      if (t.quiet) return;
      const line = t.prefix ? `${e.stage} | ${e.text}` : e.text;
      if (e.stream === 'stdout') t.out(line);
      else t.err(line);
      return;
    }
    case 'stage-skip':
      if (t.quiet) return;
      if (e.why === 'unchanged') t.out(`Stage '${e.stage}' didn't change, skipping`);
      else if (e.why === 'upstream-failed')
        t.out(`Stage '${e.stage}' skipped: an upstream stage failed`);
      else t.out(`Stage '${e.stage}' not run: repro stopped at the first failure`);
      return;
    case 'stage-cached':
      if (!t.quiet) t.out(`Stage '${e.stage}' is cached - skipping run, checking out outputs`);
      return;
    case 'lock-written':
      if (!t.quiet) t.out(`Updating lock file '${e.file}'`);
      return;
    case 'stage-done':
      return;
    case 'stage-failed':
      t.err(`error: ${e.message}`);
      return;
    case 'lock-wait':
      t.err(lockWaitLine(e));
      return;
    case 'warning':
      t.err(`warning: ${e.message}`);
      return;
    default:
      unreachableEvent(e);
  }
}

function unreachableEvent(e: never): never {
  throw new Error(`Internal error: unknown event ${JSON.stringify(e)}`);
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(2)}s`;

/** The closing summary: durations of what ran, cache hits, and what to do next. */
export function formatSummary(result: ReproResult): string {
  const ran = result.stages.filter(
    (s) => s.how === 'ran' || s.how === 'run-cache' || s.how === 'dry',
  );
  const unchanged = result.stages.filter((s) => s.how === 'unchanged').length;
  const hits = result.stages.filter((s) => s.how === 'run-cache').length;
  const failed = result.stages.filter((s) => s.how === 'failed');
  const blocked = result.stages.filter((s) => s.how === 'blocked' || s.how === 'not-reached');
  const lines: string[] = [];
  if (ran.length > 0) {
    const width = Math.max(...ran.map((s) => s.stage.length));
    lines.push('', 'Summary:');
    for (const s of ran)
      lines.push(
        `  ${s.stage.padEnd(width)}  ${secs(s.ms).padStart(8)}  ${s.how === 'ran' ? '' : s.how}`.trimEnd(),
      );
  }
  const counts = [
    `${ran.length - hits} ran`,
    `${hits} from run-cache`,
    `${unchanged} unchanged`,
    ...(failed.length > 0 ? [`${failed.length} failed`] : []),
    ...(blocked.length > 0 ? [`${blocked.length} not run`] : []),
  ];
  lines.push(counts.join(', '));
  if (failed.length === 0 && ran.length > 0 && !result.stages.some((s) => s.how === 'dry')) {
    lines.push('', 'To track the changes with git, run:', '', '\tgit add dvc.lock');
  }
  if (ran.length === 0 && failed.length === 0) lines.push('Data and pipelines are up to date.');
  return lines.join('\n');
}

export type DagFormat = 'text' | 'dot' | 'mermaid';

export function renderDag(view: DagView, format: DagFormat): string {
  switch (format) {
    case 'dot':
      return [
        'strict digraph  {',
        ...view.nodes.map((n) => `${JSON.stringify(n)};`),
        ...view.edges.map(([a, b]) => `${JSON.stringify(a)} -> ${JSON.stringify(b)};`),
        '}',
      ].join('\n');
    case 'mermaid': {
      const id = new Map(view.nodes.map((n, i) => [n, `node${i + 1}`]));
      return [
        'flowchart TD',
        ...view.nodes.map((n) => `\t${id.get(n) ?? ''}["${n.replaceAll('"', '#quot;')}"]`),
        ...view.edges.map(([a, b]) => `\t${id.get(a) ?? ''}-->${id.get(b) ?? ''}`),
      ].join('\n');
    }
    case 'text': {
      const ups = new Map<string, string[]>();
      for (const [a, b] of view.edges) ups.set(b, [...(ups.get(b) ?? []), a]);
      const width = Math.max(0, ...view.nodes.map((n) => n.length));
      return view.nodes
        .map((n) => {
          const from = ups.get(n);
          return from === undefined ? n : `${n.padEnd(width)}  <- ${from.join(', ')}`;
        })
        .join('\n');
    }
    default:
      return unreachableFormat(format);
  }
}

function unreachableFormat(f: never): never {
  throw new Error(`Internal error: unknown format ${String(f)}`);
}
