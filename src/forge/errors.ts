/**
 * Failures of octokit and gitbeaker requests turned into CairnErrors that say what was being
 * done, what the forge answered and what to change; never the token itself.
 */
import { CairnError } from '../core/errors.js';
import { forgeName, type ForgeContext } from './env.js';

/** The HTTP status and the forge's own message, from either client's error shape. */
function answerOf(error: unknown): { status?: number; message: string } {
  if (!(error instanceof Error)) return { message: String(error) };
  // octokit's RequestError: `status`, and `response` only when the server answered.
  if ('status' in error && typeof error.status === 'number') {
    const answered = 'response' in error && error.response !== undefined;
    return answered ? { status: error.status, message: error.message } : { message: error.message };
  }
  // gitbeaker's GitbeakerRequestError: the fetch Response in `cause.response`.
  const cause: unknown = error.cause;
  if (typeof cause === 'object' && cause !== null && 'response' in cause) {
    const response = cause.response;
    if (response instanceof Response) return { status: response.status, message: error.message };
  }
  const inner = cause instanceof Error ? `: ${cause.message}` : '';
  return { message: `${error.message}${inner}` };
}

/** The forge's answer to `doing` (e.g. "creating a comment on pull request #3") as a CairnError. */
export function forgeError(error: unknown, doing: string, ctx: ForgeContext): CairnError {
  if (error instanceof CairnError) return error;
  const forge = forgeName(ctx.kind);
  const { status, message } = answerOf(error);
  const said = message === '' ? '' : `: ${message}`;
  if (status === undefined)
    return new CairnError(
      'forge-unreachable',
      `cannot reach ${forge} at ${ctx.apiUrl} while ${doing}${said}`,
      {
        hint:
          ctx.kind === 'github'
            ? 'Check GITHUB_API_URL (GitHub Enterprise: https://HOST/api/v3) and the network.'
            : 'Check CI_API_V4_URL (self-hosted: https://HOST/api/v4) and the network.',
        cause: error,
      },
    );
  if (status === 401)
    return new CairnError(
      'forge-unauthorized',
      `${forge} rejected the token in ${ctx.tokenVariable} (401) while ${doing}${said}`,
      {
        hint: `Set ${ctx.tokenVariable} to a valid, unexpired token.`,
        cause: error,
      },
    );
  if (status === 403)
    return new CairnError(
      'forge-forbidden',
      `${forge} refused the token in ${ctx.tokenVariable} (403) while ${doing}${said}`,
      {
        hint:
          ctx.kind === 'github'
            ? 'Give the workflow `permissions: pull-requests: write, contents: write`, or use a token with the repo scope.'
            : 'Use a project access token with the api scope and at least the Reporter role (Developer to upload).',
        cause: error,
      },
    );
  if (status === 404)
    return new CairnError(
      'forge-not-found',
      `${forge} answered 404 while ${doing} in ${ctx.repo}${said}`,
      {
        hint: 'Check the repository, the --target number, and that the token can see the repository.',
        cause: error,
      },
    );
  return new CairnError('forge-status', `${forge} answered ${status} while ${doing}${said}`, {
    cause: error,
  });
}

/** Runs one forge request, mapping its failure. */
export async function request<T>(
  ctx: ForgeContext,
  doing: string,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw forgeError(error, doing, ctx);
  }
}
