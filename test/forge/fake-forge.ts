/**
 * A real HTTP server on a loopback port that implements the few GitHub and GitLab REST routes
 * `cairn comment` uses, keeps what it is sent (comments, git objects, uploads) and records
 * every request, so tests assert paths, auth headers, bodies and methods.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  /** path and query as received */
  url: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** parsed JSON, or the raw bytes for other content types */
  body: unknown;
  raw: Buffer;
}

export interface StoredComment {
  id: number;
  body: string;
  /** the thread: `pull/3`, `issue/7`, `commit/<sha>` */
  thread: string;
  /** GitLab commit discussions */
  discussionId?: string;
  system?: boolean;
}

export interface GitCommit {
  tree: string;
  parents: string[];
  message: string;
}

export interface FakeForgeOptions {
  /** the token the server accepts */
  token: string;
  /** answer 403 to writes (a token without the right permissions) */
  forbidWrites?: boolean;
  /** GitHub routes sit under this prefix (GitHub Enterprise: /api/v3) */
  githubPrefix?: string;
  /** GitLab routes sit under this prefix before /api/v4 (a relative URL root) */
  gitlabPrefix?: string;
  /** open pull requests by head commit (both forges' "pulls of a commit" routes) */
  pullsByCommit?: Record<string, number>;
}

export interface FakeForge extends AsyncDisposable {
  readonly url: string;
  readonly requests: Recorded[];
  readonly comments: StoredComment[];
  /** GitHub git data: blob contents by sha */
  readonly blobs: Map<string, Buffer>;
  readonly trees: Map<string, { path: string; sha: string }[]>;
  readonly commits: Map<string, GitCommit>;
  readonly refs: Map<string, string>;
  /** GitLab uploads: bytes by the URL the server returned */
  readonly uploads: Map<string, { filename: string; bytes: Buffer }>;
  /** answer this many next branch updates with GitHub's non-fast-forward 422 (a racing job) */
  refUpdatesToRefuse: number;
  /** a comment as if someone (or an earlier run) had written it */
  seed(comment: Omit<StoredComment, 'id'>): StoredComment;
}

const sha1 = (data: string | Buffer): string => createHash('sha1').update(data).digest('hex');

class HttpAnswer extends Error {
  constructor(
    readonly status: number,
    readonly payload: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

/** The part named `file` of a multipart/form-data body, as GitLab's uploads route reads it. */
function multipartFile(
  raw: Buffer,
  contentType: string,
): { filename: string; bytes: Buffer } | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const mark = Buffer.from(`--${boundary?.[1] ?? boundary?.[2] ?? ''}`);
  if (boundary === null) return undefined;
  let at = raw.indexOf(mark);
  while (at !== -1) {
    const next = raw.indexOf(mark, at + mark.length);
    if (next === -1) break;
    const part = raw.subarray(at + mark.length + 2, next - 2); // past CRLF, before CRLF
    const split = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, split).toString('utf8');
    const filename = /name="file"; filename="([^"]*)"/.exec(head)?.[1];
    if (filename !== undefined) return { filename, bytes: Buffer.from(part.subarray(split + 4)) };
    at = next;
  }
  return undefined;
}

export async function startFakeForge(options: FakeForgeOptions): Promise<FakeForge> {
  const requests: Recorded[] = [];
  const comments: StoredComment[] = [];
  const blobs = new Map<string, Buffer>();
  const trees = new Map<string, { path: string; sha: string }[]>();
  const commits = new Map<string, GitCommit>();
  const refs = new Map<string, string>();
  const uploads = new Map<string, { filename: string; bytes: Buffer }>();
  let nextId = 1000;
  const gh = options.githubPrefix ?? '';
  let base = '';

  const seed = (c: Omit<StoredComment, 'id'>): StoredComment => {
    const stored = { ...c, id: nextId++ };
    comments.push(stored);
    return stored;
  };
  const ghComment = (c: StoredComment): unknown => ({
    id: c.id,
    body: c.body,
    html_url: `${base}/web/${c.thread}#comment-${c.id}`,
  });
  const glNote = (c: StoredComment): unknown => ({
    id: c.id,
    body: c.body,
    system: c.system ?? false,
  });
  const findComment = (id: number, thread?: string): StoredComment => {
    const c = comments.find((x) => x.id === id && (thread === undefined || x.thread === thread));
    if (c === undefined) throw new HttpAnswer(404, { message: 'Not Found' });
    return c;
  };
  const bodyText = (body: unknown): string => {
    const text = (body as { body?: unknown } | undefined)?.body;
    if (typeof text !== 'string') throw new HttpAnswer(422, { message: 'body is required' });
    return text;
  };

  function route(req: http.IncomingMessage, rec: Recorded): [number, unknown] {
    const { method } = rec;
    // GitLab installed under a relative URL root (https://host/gitlab/api/v4) is served the same.
    const gl = options.gitlabPrefix ?? '';
    const isGitlab = rec.path.startsWith(`${gl}/api/v4/`);
    const path = isGitlab ? rec.path.slice(gl.length) : rec.path;
    if (isGitlab) {
      if (req.headers['private-token'] !== options.token)
        throw new HttpAnswer(401, { message: '401 Unauthorized' });
    } else {
      const auth = req.headers.authorization ?? '';
      if (auth !== `token ${options.token}` && auth !== `Bearer ${options.token}`)
        throw new HttpAnswer(401, { message: 'Bad credentials' });
    }
    if (options.forbidWrites === true && method !== 'GET')
      throw new HttpAnswer(403, { message: 'Resource not accessible by integration' });

    let m: RegExpExecArray | null;
    // GitHub
    if (!isGitlab && path.startsWith(`${gh}/repos/`)) {
      // GitHub takes the slash in a ref name encoded (heads%2Fmain) or not.
      const rest = decodeURIComponent(path.slice(`${gh}/repos/`.length));
      if ((m = /^[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(rest))) {
        const thread = `pull/${m[1] ?? ''}`;
        if (method === 'GET')
          return [200, comments.filter((c) => c.thread === thread).map(ghComment)];
        if (method === 'POST') return [201, ghComment(seed({ thread, body: bodyText(rec.body) }))];
      }
      if ((m = /^[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(rest)) && method === 'PATCH') {
        const c = findComment(Number(m[1]));
        c.body = bodyText(rec.body);
        return [200, ghComment(c)];
      }
      if ((m = /^[^/]+\/[^/]+\/commits\/([0-9a-f]+)\/comments$/.exec(rest))) {
        const thread = `commit/${m[1] ?? ''}`;
        if (method === 'GET')
          return [200, comments.filter((c) => c.thread === thread).map(ghComment)];
        if (method === 'POST') return [201, ghComment(seed({ thread, body: bodyText(rec.body) }))];
      }
      if ((m = /^[^/]+\/[^/]+\/comments\/(\d+)$/.exec(rest)) && method === 'PATCH') {
        const c = findComment(Number(m[1]));
        c.body = bodyText(rec.body);
        return [200, ghComment(c)];
      }
      if ((m = /^[^/]+\/[^/]+\/commits\/([0-9a-f]+)\/pulls$/.exec(rest)) && method === 'GET') {
        const n = options.pullsByCommit?.[m[1] ?? ''];
        return [200, n === undefined ? [] : [{ number: n, state: 'open' }]];
      }
      if ((m = /^[^/]+\/[^/]+\/git\/ref\/heads\/(.+)$/.exec(rest)) && method === 'GET') {
        const sha = refs.get(`refs/heads/${m[1] ?? ''}`);
        if (sha === undefined) throw new HttpAnswer(404, { message: 'Not Found' });
        return [200, { ref: `refs/heads/${m[1] ?? ''}`, object: { sha, type: 'commit' } }];
      }
      if (/^[^/]+\/[^/]+\/git\/blobs$/.test(rest) && method === 'POST') {
        const b = rec.body as { content: string; encoding: string };
        if (b.encoding !== 'base64') throw new HttpAnswer(422, { message: 'encoding' });
        const bytes = Buffer.from(b.content, 'base64');
        const sha = sha1(Buffer.concat([Buffer.from(`blob ${bytes.length}\0`), bytes]));
        blobs.set(sha, bytes);
        return [201, { sha }];
      }
      if (/^[^/]+\/[^/]+\/git\/trees$/.test(rest) && method === 'POST') {
        const b = rec.body as { base_tree?: string; tree: { path: string; sha: string }[] };
        const entries = [...(b.base_tree === undefined ? [] : (trees.get(b.base_tree) ?? []))];
        for (const e of b.tree) {
          if (!blobs.has(e.sha)) throw new HttpAnswer(422, { message: `no blob ${e.sha}` });
          entries.push({ path: e.path, sha: e.sha });
        }
        const sha = sha1(JSON.stringify(entries));
        trees.set(sha, entries);
        return [201, { sha }];
      }
      if ((m = /^[^/]+\/[^/]+\/git\/trees\/([0-9a-f]+)$/.exec(rest)) && method === 'GET') {
        const entries = trees.get(m[1] ?? '');
        if (entries === undefined) throw new HttpAnswer(404, { message: 'Not Found' });
        return [
          200,
          { sha: m[1], tree: entries.map((e) => ({ ...e, type: 'blob', mode: '100644' })) },
        ];
      }
      if (/^[^/]+\/[^/]+\/git\/commits$/.test(rest) && method === 'POST') {
        const b = rec.body as GitCommit;
        if (!trees.has(b.tree)) throw new HttpAnswer(422, { message: 'no tree' });
        const sha = sha1(JSON.stringify(b));
        commits.set(sha, { tree: b.tree, parents: b.parents, message: b.message });
        return [201, { sha }];
      }
      if ((m = /^[^/]+\/[^/]+\/git\/commits\/([0-9a-f]+)$/.exec(rest)) && method === 'GET') {
        const c = commits.get(m[1] ?? '');
        if (c === undefined) throw new HttpAnswer(404, { message: 'Not Found' });
        return [
          200,
          { sha: m[1], tree: { sha: c.tree }, parents: c.parents.map((sha) => ({ sha })) },
        ];
      }
      if (/^[^/]+\/[^/]+\/git\/refs$/.test(rest) && method === 'POST') {
        const b = rec.body as { ref: string; sha: string };
        if (refs.has(b.ref)) throw new HttpAnswer(422, { message: 'Reference already exists' });
        refs.set(b.ref, b.sha);
        return [201, { ref: b.ref, object: { sha: b.sha } }];
      }
      if ((m = /^[^/]+\/[^/]+\/git\/refs\/(heads\/.+)$/.exec(rest)) && method === 'PATCH') {
        const ref = `refs/${m[1] ?? ''}`;
        const b = rec.body as { sha: string; force?: boolean };
        const old = refs.get(ref);
        if (old === undefined) throw new HttpAnswer(422, { message: 'Reference does not exist' });
        if (fake.refUpdatesToRefuse > 0) {
          fake.refUpdatesToRefuse--;
          throw new HttpAnswer(422, { message: 'Update is not a fast forward' });
        }
        if (b.force !== true && !(commits.get(b.sha)?.parents.includes(old) ?? false))
          throw new HttpAnswer(422, { message: 'Update is not a fast forward' });
        refs.set(ref, b.sha);
        return [200, { ref, object: { sha: b.sha } }];
      }
    }
    // GitLab
    if (isGitlab && (m = /^\/api\/v4\/projects\/([^/]+)\/(.+)$/.exec(path))) {
      const rest = m[2] ?? '';
      let n: RegExpExecArray | null;
      if ((n = /^(merge_requests|issues)\/(\d+)\/notes$/.exec(rest))) {
        const thread = `${n[1] === 'issues' ? 'issue' : 'pull'}/${n[2] ?? ''}`;
        if (method === 'GET')
          return [
            200,
            comments
              .filter((c) => c.thread === thread)
              .reverse()
              .map(glNote),
          ];
        if (method === 'POST') return [201, glNote(seed({ thread, body: bodyText(rec.body) }))];
      }
      if ((n = /^(merge_requests|issues)\/(\d+)\/notes\/(\d+)$/.exec(rest)) && method === 'PUT') {
        const thread = `${n[1] === 'issues' ? 'issue' : 'pull'}/${n[2] ?? ''}`;
        const c = findComment(Number(n[3]), thread);
        c.body = bodyText(rec.body);
        return [200, glNote(c)];
      }
      if ((n = /^repository\/commits\/([0-9a-f]+)\/discussions$/.exec(rest))) {
        const thread = `commit/${n[1] ?? ''}`;
        const discussion = (c: StoredComment): unknown => ({
          id: c.discussionId,
          notes: [glNote(c)],
        });
        if (method === 'GET')
          return [200, comments.filter((c) => c.thread === thread).map(discussion)];
        if (method === 'POST') {
          const c = seed({ thread, body: bodyText(rec.body), discussionId: sha1(String(nextId)) });
          return [201, discussion(c)];
        }
      }
      if (
        (n = /^repository\/commits\/([0-9a-f]+)\/discussions\/([0-9a-f]+)\/notes\/(\d+)$/.exec(
          rest,
        )) &&
        method === 'PUT'
      ) {
        const c = findComment(Number(n[3]), `commit/${n[1] ?? ''}`);
        if (c.discussionId !== n[2]) throw new HttpAnswer(404, { message: 'discussion' });
        c.body = bodyText(rec.body);
        return [200, glNote(c)];
      }
      if (
        (n = /^repository\/commits\/([0-9a-f]+)\/merge_requests$/.exec(rest)) &&
        method === 'GET'
      ) {
        const iid = options.pullsByCommit?.[n[1] ?? ''];
        return [200, iid === undefined ? [] : [{ iid, state: 'opened' }]];
      }
      if (rest === 'uploads' && method === 'POST') {
        const file = multipartFile(rec.raw, req.headers['content-type'] ?? '');
        if (file === undefined) throw new HttpAnswer(400, { message: 'file is missing' });
        const secret = sha1(String(nextId++)).slice(0, 32);
        const url = `/uploads/${secret}/${file.filename}`;
        uploads.set(url, file);
        return [
          201,
          {
            alt: file.filename,
            url,
            full_path: `/-/project/1/uploads/${secret}/${file.filename}`,
            markdown: `![${file.filename}](${url})`,
          },
        ];
      }
    }
    throw new HttpAnswer(404, { message: `no route for ${method} ${path}` });
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      const url = req.url ?? '/';
      const type = req.headers['content-type'] ?? '';
      let body: unknown = raw;
      if (type.includes('json') && raw.length > 0)
        body = JSON.parse(raw.toString('utf8')) as unknown;
      const rec: Recorded = {
        method: req.method ?? 'GET',
        url,
        path: decodeURI(url.split('?')[0] ?? url),
        headers: req.headers,
        body,
        raw,
      };
      requests.push(rec);
      let status: number;
      let payload: unknown;
      try {
        [status, payload] = route(req, rec);
      } catch (error) {
        if (!(error instanceof HttpAnswer)) throw error;
        status = error.status;
        payload = error.payload;
      }
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(payload));
    })().catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  const fake: FakeForge = {
    url: base,
    refUpdatesToRefuse: 0,
    requests,
    comments,
    blobs,
    trees,
    commits,
    refs,
    uploads,
    seed,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
  return fake;
}
