/**
 * The terminal side of `cairn agent` (prints the listening lines, runs until SIGTERM or SIGINT,
 * or reconciles once with `--once`) and the rendering of `cairn status --env`.
 */
import { renderError } from './errors.js';
import type { AgentFlags } from '../commands/agent.js';
import type { CommandContext } from '../commands/context.js';
import type { EnvironmentStatus } from '../deploy/agent-status.js';

export interface AgentCliFlags extends Omit<AgentFlags, 'intervalMs'> {
  interval: string;
  once?: boolean;
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

/**
 * Runs the agent; answers the exit code. With `--once`: 0 when every environment ends Synced
 * and Healthy, 1 otherwise (its status is printed either way).
 */
export async function runAgent(
  ctx: CommandContext,
  flags: AgentCliFlags,
  json: boolean,
  done: () => void,
): Promise<number> {
  try {
    const { startAgent } = await import('../commands/agent.js');
    const { parseDuration } = await import('../core/duration.js');
    const { createLogger } = await import('../serve/logger.js');
    const logger = createLogger({ base: { component: 'agent' } });
    const intervalMs = parseDuration(flags.interval);
    const signal = untilSignal();
    const entry = process.argv[1];
    if (entry === undefined) throw new Error('Internal error: no CLI entry in process.argv');
    const handle = await startAgent(
      ctx,
      { ...flags, intervalMs },
      { command: process.execPath, args: [...process.execArgv, entry] },
      logger,
    );
    done();
    const print = (event: string, url: string) => {
      process.stdout.write(
        json
          ? `${JSON.stringify({ event, url })}\n`
          : `${event === 'listening' ? 'listening on' : 'webhook on'} ${url}\n`,
      );
    };
    print('listening', handle.url);
    if (handle.webhookUrl !== undefined) print('webhook', handle.webhookUrl);
    if (flags.once === true) {
      const statuses = await Promise.race([handle.agent.once(), signal.then(() => undefined)]);
      await handle.close();
      if (statuses === undefined) return 1;
      for (const s of statuses) {
        process.stdout.write(json ? `${JSON.stringify(s)}\n` : `${formatEnvironmentStatus(s)}\n`);
      }
      return statuses.every((s) => s.sync === 'Synced' && s.health === 'Healthy') ? 0 : 1;
    }
    handle.agent.start();
    const got = await signal;
    logger.info({ signal: got }, 'stopping');
    await handle.close();
    return 0;
  } catch (error) {
    done();
    return renderError(error, process.stderr, json);
  }
}

const short = (commit: string | null) => (commit === null ? '(none)' : commit.slice(0, 12));

export function formatEnvironmentStatus(s: EnvironmentStatus): string {
  const lines = [
    `Environment ${s.environment}: ${s.sync}, ${s.health}${s.reason === undefined ? '' : ` — ${s.reason}`}`,
    `  desired ${short(s.desired.commit)}  live ${short(s.live.commit)}`,
  ];
  for (const [name, m] of Object.entries(s.models)) {
    const weights = Object.entries(m.weights)
      .map(([v, w]) => `${v}=${String(w)}%`)
      .join(' ');
    lines.push(`  ${name}: ${m.health}${m.reason === undefined ? '' : ` (${m.reason})`}`);
    if (m.stable !== undefined) lines.push(`    stable     ${m.stable.modelkit}`);
    if (m.candidate !== undefined) {
      lines.push(
        `    candidate  ${m.candidate.modelkit}${m.step === undefined ? '' : ` at step ${String(m.step)}`}`,
      );
    }
    lines.push(`    weights    ${weights === '' ? '(none)' : weights}`);
    const last = m.analysis.at(-1);
    if (last !== undefined) {
      lines.push(
        `    last check ${last.passed ? 'passed' : `failed: ${last.message ?? ''}`} (${String(last.measurement.requests)} requests)`,
      );
    }
  }
  if (s.history.length > 0) {
    lines.push('  history:');
    for (const h of s.history) {
      lines.push(
        `    ${short(h.commit)}  ${new Date(h.at).toISOString().slice(0, 19).replace('T', ' ')}  ${h.result}${h.message === undefined ? '' : `  ${h.message}`}`,
      );
    }
  }
  return lines.join('\n');
}
