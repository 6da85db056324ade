/**
 * `cairn agent` and `cairn status --env`: wires the agent (src/deploy/agent.ts) to the local
 * store and the registry client (ModelKits pulled by digest, verified), starts its router and
 * the webhook endpoint; and reads an agent's state back for `status`.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import { CairnError } from '../core/errors.js';
import { Agent } from '../deploy/agent.js';
import { environmentStatus, type EnvironmentStatus } from '../deploy/agent-status.js';
import { startRouter } from '../deploy/router.js';
import { readState } from '../deploy/state.js';
import { webhookHandler } from '../deploy/webhook.js';
import type { CairnCommand } from '../deploy/worker.js';
import { pullChain } from '../modelkit/remote.js';
import { NotFoundError, resolveLocal } from '../oci/local-repo.js';
import { DEFAULT_REGISTRY, orLatest, parseReference } from '../oci/reference.js';
import type { CommandContext } from './context.js';
import { clientFor, openStore, type RemoteFlags } from './options.js';

export interface AgentFlags extends RemoteFlags {
  repo: string;
  branch: string;
  env: readonly string[];
  host: string;
  port: number;
  /** ms */
  intervalMs: number;
  webhookPort?: number;
  stateDir?: string;
}

export interface AgentHandle {
  readonly agent: Agent;
  readonly url: string;
  readonly webhookUrl?: string;
  close(): Promise<void>;
}

/** `.cairn/agent` below the working folder unless --state-dir says otherwise. */
export const stateDirOf = (ctx: CommandContext, dir: string | undefined): string =>
  path.resolve(ctx.cwd, dir ?? path.join('.cairn', 'agent'));

/** Puts `reference` into the local store (pulled by digest when missing) and pins it. */
async function fetchKit(ctx: CommandContext, o: RemoteFlags, reference: string): Promise<string> {
  const { ref } = parseReference(reference);
  const wanted = ref.digest === undefined ? orLatest(ref) : ref;
  const store = await openStore(ctx, o);
  const pinned = (digest: string) => `${ref.registry}/${ref.repository}@${digest}`;
  try {
    return pinned((await resolveLocal(store, wanted)).desc.digest);
  } catch (error) {
    if (!(error instanceof NotFoundError) || ref.registry === DEFAULT_REGISTRY) throw error;
  }
  await pullChain({
    store,
    reference,
    connect: (r) => clientFor(ctx, r, o),
    concurrency: o.concurrency ?? 5,
    sink: ctx.sink,
    ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
  });
  return pinned((await resolveLocal(store, wanted)).desc.digest);
}

export async function startAgent(
  ctx: CommandContext,
  o: AgentFlags,
  cairn: CairnCommand,
  logger: Logger,
): Promise<AgentHandle> {
  if (o.env.length === 0) {
    throw new CairnError('no-environment', 'no environment to follow', {
      hint: 'Name one with --env ENV (repeat it to follow several).',
    });
  }
  const secret = ctx.env.CAIRN_WEBHOOK_SECRET;
  if (o.webhookPort !== undefined && (secret === undefined || secret === '')) {
    throw new CairnError('webhook-secret-missing', '--webhook-port needs a secret', {
      hint: 'Set CAIRN_WEBHOOK_SECRET to the secret the git host signs its pushes with.',
    });
  }
  const agent = await Agent.open({
    repo: isUrl(o.repo) ? o.repo : path.resolve(ctx.cwd, o.repo),
    branch: o.branch,
    environments: o.env,
    stateDir: stateDirOf(ctx, o.stateDir),
    intervalMs: o.intervalMs,
    cairn,
    // The workers (and process runtimes) have no use for the webhook secret.
    childEnv: Object.fromEntries(
      Object.entries(ctx.env).filter(([k]) => k !== 'CAIRN_WEBHOOK_SECRET'),
    ),
    logger,
    fetchKit: (reference) => fetchKit(ctx, o, reference),
  });
  const router = await startRouter({
    host: o.host,
    port: o.port,
    table: agent.table,
    local: {
      '/metrics': async () => ({
        status: 200,
        type: agent.metrics.contentType,
        body: await agent.metrics.text(),
      }),
      '/healthz': () =>
        Promise.resolve({
          status: 200,
          type: 'application/json',
          body: JSON.stringify({
            status: 'ok',
            environments: Object.fromEntries(
              o.env.map((e) => {
                const s = agent.status(e);
                return [
                  e,
                  {
                    sync: s.sync,
                    health: s.health,
                    ...(s.reason === undefined ? {} : { reason: s.reason }),
                  },
                ];
              }),
            ),
          }),
        }),
    },
  }).catch((error: unknown) => {
    throw new CairnError(
      'listen-failed',
      `cannot listen on ${o.host}:${String(o.port)}: ${(error as Error).message}`,
      {
        hint: 'Pick another --port (0 picks a free one) or --host.',
        cause: error,
      },
    );
  });
  let hook: http.Server | undefined;
  let webhookUrl: string | undefined;
  if (o.webhookPort !== undefined && secret !== undefined) {
    const server = http.createServer(
      webhookHandler(secret, (notice) => {
        logger.info(
          { provider: notice.provider, event: notice.event, ref: notice.ref },
          'webhook push',
        );
        agent.trigger();
      }),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.webhookPort, o.host, () => {
        resolve();
      });
    });
    hook = server;
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : o.webhookPort;
    webhookUrl = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${String(port)}`;
  }
  return {
    agent,
    url: router.url,
    ...(webhookUrl === undefined ? {} : { webhookUrl }),
    close: async () => {
      hook?.closeAllConnections();
      await new Promise<void>((resolve) => {
        if (hook === undefined) resolve();
        else
          hook.close(() => {
            resolve();
          });
      });
      await agent.stop();
      await router.close();
    },
  };
}

const isUrl = (repo: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/]+@[^/]+:/.test(repo);

function git(cwd: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd }, (error, stdout) => {
      resolve(error === null ? stdout.trim() : undefined);
    });
  });
}

/**
 * `cairn status --env ENV`: the agent's state for ENV; inside a git checkout that has
 * `environments/ENV.yaml`, the desired revision is the checkout's HEAD.
 */
export async function environmentStatusCommand(
  ctx: CommandContext,
  env: string,
  stateDir: string | undefined,
): Promise<EnvironmentStatus> {
  const dir = stateDirOf(ctx, stateDir);
  const state = await readState(path.join(dir, 'state.json'));
  const e = state.environments[env];
  if (e === undefined) {
    throw new CairnError(
      'environment-unknown',
      `${dir}: the agent has no state for environment ${env}`,
      {
        hint: `Run \`cairn agent --env ${env}\` (its --state-dir must match), or pass --state-dir.`,
      },
    );
  }
  const file = `environments/${env}.yaml`;
  const head = await git(ctx.cwd, ['rev-parse', '--verify', '--quiet', 'HEAD']);
  const tracked =
    head === undefined ? undefined : await git(ctx.cwd, ['cat-file', '-e', `HEAD:${file}`]);
  if (head === undefined || tracked === undefined) return environmentStatus(env, e);
  const live = e.appliedCommit;
  const same =
    live !== undefined &&
    (await git(ctx.cwd, ['diff', '--quiet', live, head, '--', file])) !== undefined;
  return environmentStatus(env, e, { commit: head, sameAsLive: same });
}
