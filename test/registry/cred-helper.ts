/**
 * A real `docker-credential-cairntest` helper for tests: a small sh script in a temp dir (put
 * that dir on PATH) that speaks the docker-credential-helpers protocol — `get`, `store` and
 * `erase` with the server URL or a JSON credential on stdin — keeps what it stores in files
 * next to itself, and logs every call so tests can check what it was sent.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface FakeHelper {
  /** the directory to put first on PATH */
  dir: string;
  /** `cairntest`, as named in `credsStore` / `credHelpers` */
  name: string;
  /** Pre-loads a credential, as `docker login` with this helper would have. */
  put(serverUrl: string, username: string, secret: string): void;
  /** Every call: the action and what came on stdin. */
  calls(): { action: string; input: string }[];
  /** The credential stored for a server URL, if any. */
  stored(serverUrl: string): { ServerURL: string; Username: string; Secret: string } | undefined;
}

const SCRIPT = `#!/bin/sh
# docker-credential-cairntest: the docker-credential-helpers protocol over files in $HERE/store.
HERE="$(dirname "$0")"
input="$(cat)"
printf '%s\\t%s\\n' "$1" "$input" | base64 -w0 >> "$HERE/calls.log"
echo >> "$HERE/calls.log"
key() { printf '%s' "$1" | base64 -w0 | tr '/+' '_-'; }
case "$1" in
  get)
    f="$HERE/store/$(key "$input")"
    if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store)
    url="$(printf '%s' "$input" | sed -n 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/p')"
    [ -n "$url" ] || { echo "no ServerURL in input"; exit 3; }
    printf '%s' "$input" > "$HERE/store/$(key "$url")" ;;
  erase)
    f="$HERE/store/$(key "$input")"
    if [ -f "$f" ]; then rm "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  *) echo "unknown action $1"; exit 2 ;;
esac
`;

const keyOf = (url: string): string =>
  Buffer.from(url).toString('base64').replace(/\//g, '_').replace(/\+/g, '-');

export function makeFakeHelper(): FakeHelper {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-helper-'));
  fs.mkdirSync(path.join(dir, 'store'));
  fs.writeFileSync(path.join(dir, 'docker-credential-cairntest'), SCRIPT, { mode: 0o755 });
  const file = (url: string): string => path.join(dir, 'store', keyOf(url));
  return {
    dir,
    name: 'cairntest',
    put: (serverUrl, username, secret) => {
      fs.writeFileSync(
        file(serverUrl),
        JSON.stringify({ ServerURL: serverUrl, Username: username, Secret: secret }),
      );
    },
    calls: () => {
      const log = path.join(dir, 'calls.log');
      if (!fs.existsSync(log)) return [];
      return fs
        .readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const [action = '', input = ''] = Buffer.from(l, 'base64')
            .toString('utf8')
            .replace(/\n$/, '')
            .split('\t');
          return { action, input };
        });
    },
    stored: (serverUrl) => {
      const f = file(serverUrl);
      if (!fs.existsSync(f)) return undefined;
      return JSON.parse(fs.readFileSync(f, 'utf8')) as {
        ServerURL: string;
        Username: string;
        Secret: string;
      };
    },
  };
}
