/**
 * Push webhooks that make the agent reconcile now instead of at its next poll, verified the
 * way GitHub (`X-Hub-Signature-256`, HMAC-SHA256 of the raw body) and GitLab (`X-Gitlab-Token`)
 * sign them. As in Argo CD, the payload only triggers a refresh: git stays the source of truth.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { CairnError } from '../core/errors.js';

export type Provider = 'github' | 'gitlab';

export type WebhookVerdict =
  | { readonly accepted: true; readonly provider: Provider }
  | { readonly accepted: false; readonly reason: string };

/** What an accepted hook said; the agent refetches git whatever it says. */
export interface PushNotice {
  readonly provider: Provider;
  /** `push`, `ping`, `Push Hook`… as the sender names it */
  readonly event: string | undefined;
  /** `refs/heads/main` when the payload carries one */
  readonly ref: string | undefined;
}

/** 1 MiB: push payloads are a few KiB; anything larger is not a push we want to parse. */
export const MAX_BODY_BYTES = 1024 * 1024;

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** Checks one delivery. Reasons name what was wrong, never the secret or the expected value. */
export function verifyPush(
  secret: string,
  headers: IncomingHttpHeaders,
  body: Uint8Array,
): WebhookVerdict {
  const signature = header(headers, 'x-hub-signature-256');
  if (signature !== undefined) {
    const match = /^sha256=([0-9a-f]{64})$/i.exec(signature.trim());
    if (match?.[1] === undefined) {
      return { accepted: false, reason: 'X-Hub-Signature-256 is not sha256=<64 hex digits>' };
    }
    const expected = createHmac('sha256', secret).update(body).digest();
    return timingSafeEqual(Buffer.from(match[1], 'hex'), expected)
      ? { accepted: true, provider: 'github' }
      : { accepted: false, reason: 'X-Hub-Signature-256 does not match the body' };
  }
  const token = header(headers, 'x-gitlab-token');
  if (token !== undefined) {
    // Hash both sides so the comparison is constant-time whatever the lengths.
    const sha = (s: string) => createHash('sha256').update(s).digest();
    return timingSafeEqual(sha(token), sha(secret))
      ? { accepted: true, provider: 'gitlab' }
      : { accepted: false, reason: 'X-Gitlab-Token does not match' };
  }
  return { accepted: false, reason: 'neither X-Hub-Signature-256 nor X-Gitlab-Token is present' };
}

/**
 * A node:http handler: 405 unless POST, 413 past MAX_BODY_BYTES, 401 (and nothing else) on a
 * bad signature, 202 after handing the notice to `onPush`.
 */
export function webhookHandler(
  secret: string,
  onPush: (notice: PushNotice) => void,
  maxBytes = MAX_BODY_BYTES,
): (req: IncomingMessage, res: ServerResponse) => void {
  if (secret === '') {
    throw new CairnError('webhook-secret-empty', 'the webhook secret is empty', {
      hint: 'Set a long random secret (e.g. `openssl rand -hex 32`) in both the agent and the git host.',
    });
  }
  return (req, res) => {
    const reply = (status: number, message: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...extra });
      res.end(JSON.stringify(status < 300 ? { status: 'accepted' } : { error: message }));
    };
    if (req.method !== 'POST') {
      reply(405, 'webhooks are POSTed', { allow: 'POST' });
      req.resume();
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes) {
      // `connection: close` makes node drop the socket once the answer is out.
      reply(413, `body over ${String(maxBytes)} bytes`, { connection: 'close' });
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (res.headersSent) return;
      size += chunk.length;
      if (size > maxBytes) {
        reply(413, `body over ${String(maxBytes)} bytes`, { connection: 'close' });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      const body = Buffer.concat(chunks);
      const verdict = verifyPush(secret, req.headers, body);
      if (!verdict.accepted) {
        reply(401, verdict.reason);
        return;
      }
      reply(202, 'accepted');
      onPush({
        provider: verdict.provider,
        event: header(req.headers, 'x-github-event') ?? header(req.headers, 'x-gitlab-event'),
        ref: refOf(body),
      });
    });
  };
}

function refOf(body: Buffer): string | undefined {
  try {
    const payload: unknown = JSON.parse(body.toString('utf8'));
    if (typeof payload === 'object' && payload !== null && 'ref' in payload) {
      return typeof payload.ref === 'string' ? payload.ref : undefined;
    }
  } catch {
    // a form-encoded or empty payload still triggers a refresh
  }
  return undefined;
}
