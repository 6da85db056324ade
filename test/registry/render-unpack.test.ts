// The rendered init container's command works: run with exactly the args and env the rendered
// Deployment gives it (its paths mapped into a temp dir), the built `cairn` pulls the pinned
// ModelKit from a real registry that requires a login, using the dockerconfigjson Secret as
// Kubernetes would mount it, and unpacks it byte-identical.
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvironment } from '../../src/deploy/environment.js';
import { renderKubernetes } from '../../src/deploy/render-k8s.js';
import { startRegistry, type RunningRegistry } from './harness.js';
import {
  cli,
  cliJson,
  enabled,
  freshEnv,
  kitDir,
  treeDigests,
  type Transfer,
} from './transfer-helpers.js';

interface Container {
  args: string[];
  env: { name: string; value: string }[];
  volumeMounts: { name: string; mountPath: string }[];
}

let reg: RunningRegistry | undefined;
beforeAll(async () => {
  if (enabled) reg = await startRegistry({ htpasswd: { puller: 'pull-secret' } });
});
afterAll(async () => {
  await reg?.stop();
});

function dockerConfig(host: string): string {
  const auth = Buffer.from('puller:pull-secret').toString('base64');
  return JSON.stringify({ auths: { [host]: { auth } } });
}

describe.skipIf(!enabled)('render k8s: the init container against a registry', () => {
  it('unpacks the pinned digest with the mounted registry Secret, and fails without it', async () => {
    if (reg === undefined) throw new Error('the registry did not start');
    const a = freshEnv();
    const login = path.join(a.work, 'docker');
    fs.mkdirSync(login);
    fs.writeFileSync(path.join(login, 'config.json'), dockerConfig(reg.host));
    const src = kitDir(a.work, 256 * 1024 + 3);
    const ref = `${reg.host}/acme/churn:v1`;
    expect((await cli(a, ['pack', src, '-t', ref])).code).toBe(0);
    const pushed = await cliJson<Transfer>(a, ['push', ref], { DOCKER_CONFIG: login });

    // A GitOps repository declaring that digest, rendered as CI would.
    const repo = path.join(a.work, 'gitops');
    fs.mkdirSync(path.join(repo, 'environments'), { recursive: true });
    fs.writeFileSync(
      path.join(repo, 'environments', 'prod.yaml'),
      `apiVersion: cairn.dev/v1alpha1\nkind: Environment\nmetadata: {name: prod}\nspec:\n  models:\n    churn: {modelkit: "${reg.host}/acme/churn@${pushed.digest}"}\n`,
    );
    const env = await readEnvironment(repo, 'prod');
    const deployment = renderKubernetes(env)
      .flatMap((f) => parseAllDocuments(f.text).map((d) => d.toJS() as Record<string, unknown>))
      .find((o) => o.kind === 'Deployment') as {
      spec: { template: { spec: { initContainers: Container[] } } };
    };
    const [init] = deployment.spec.template.spec.initContainers;
    if (init === undefined) throw new Error('no init container rendered');

    // The pod's filesystem, in a temp dir: each mount path becomes a folder of its own; the
    // Secret's .dockerconfigjson is projected as config.json.
    const pod = path.join(a.work, 'pod');
    const local = (p: string) => path.join(pod, p);
    for (const m of init.volumeMounts) fs.mkdirSync(local(m.mountPath), { recursive: true });
    const secretMount = init.volumeMounts.find((m) => m.name === 'registry-credentials');
    if (secretMount === undefined) throw new Error('no registry-credentials mount');
    const modelMount = init.volumeMounts.find((m) => m.name === 'model');
    if (modelMount === undefined) throw new Error('no model mount');
    const mapped = (value: string) =>
      init.volumeMounts.some((m) => m.mountPath === value) ? local(value) : value;
    const args = init.args.map(mapped);
    const containerEnv = Object.fromEntries(init.env.map((e) => [e.name, mapped(e.value)]));
    // The test registry speaks plain HTTP; a cluster's would speak TLS.
    const podEnv = { ...containerEnv, CAIRN_REGISTRY_PLAIN_HTTP: '1' };

    // Without the Secret (the mount is optional), the private registry refuses.
    const denied = await cli(a, args, podEnv);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/401 Unauthorized/);

    fs.writeFileSync(
      path.join(local(secretMount.mountPath), 'config.json'),
      dockerConfig(reg.host),
    );
    const unpacked = await cli(a, args, podEnv);
    expect(unpacked.code, unpacked.stderr).toBe(0);
    const want = treeDigests(src);
    const got = treeDigests(local(modelMount.mountPath));
    for (const f of ['model.bin', 'data/a.csv', 'README.md']) expect(got[f]).toBe(want[f]);

    // A restarted init container finds the files there and unpacks over them.
    const again = await cli(a, args, podEnv);
    expect(again.code, again.stderr).toBe(0);
  });
});
