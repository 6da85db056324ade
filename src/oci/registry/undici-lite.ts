/**
 * The two pieces of undici the registry transport uses — `Agent` and `request` — loaded from
 * their own modules: undici's index also loads fetch, WebSocket, caches and mocks, which costs
 * ~70 ms at every start, and a no-op push must finish in 0.3 s. (The CLI also keeps llhttp's
 * WebAssembly on V8's baseline tier: see src/cli/main.ts.)
 */
import { createRequire } from 'node:module';
import type { Agent as AgentType, Dispatcher } from 'undici';

const require = createRequire(import.meta.url);

/** undici's Agent (the same class `import { Agent } from 'undici'` gives). */
export const Agent = require('undici/lib/dispatcher/agent.js') as typeof AgentType;

const apiRequest = require('undici/lib/api/api-request.js') as (
  this: Dispatcher,
  opts: Dispatcher.RequestOptions,
) => Promise<Dispatcher.ResponseData>;

/** `dispatcher.request(...)`, without undici's index (which mixes the API into Dispatcher). */
export function request(
  dispatcher: Dispatcher,
  url: string,
  o: Omit<Dispatcher.RequestOptions, 'origin' | 'path'>,
): Promise<Dispatcher.ResponseData> {
  const u = new URL(url);
  return apiRequest.call(dispatcher, { ...o, origin: u.origin, path: `${u.pathname}${u.search}` });
}
