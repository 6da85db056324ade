/**
 * `cairn plots show/diff` and `cairn report` in real git repositories: plot definitions in
 * every dvc.yaml form, drawn headless; SVGs checked by parsing them (marks, legend entries),
 * PNGs by decoding them (size, ink), `--json` against DVC's `{id: [{type, revisions, content}]}`.
 */
import fs from 'node:fs';
import { expect, test } from 'vitest';
import { createSandbox, type Sandbox } from '../e2e/helpers.js';
import { decodePng, inClass, marks, inkedPixels, parseSvg, texts } from './images.js';

const DVC_YAML = `stages:
  train:
    cmd: echo train
    plots:
      - logs/acc.tsv:
          cache: false
          x: step
          y: acc
          template: scatter
plots:
  - logs/loss.csv:
      x: epoch
      y: loss
  - ROC:
      template: simple
      x: fpr
      y:
        eval/roc_train.json: tpr
        eval/roc_test.json: tpr
  - Confusion:
      template: confusion
      x: actual
      y:
        eval/confusion.csv: predicted
  - curves
  - Custom:
      template: mine
      x: epoch
      y:
        logs/loss.csv: loss
`;

const CUSTOM = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: '<DVC_METRIC_TITLE> (custom)',
  data: { values: '<DVC_METRIC_DATA>' },
  mark: 'bar',
  encoding: {
    x: { field: '<DVC_METRIC_X>', type: 'ordinal' },
    y: { field: '<DVC_METRIC_Y>', type: 'quantitative', title: '<DVC_METRIC_Y_LABEL>' },
    color: '<DVC_METRIC_COLOR>',
  },
};

function roc(shift: number): string {
  const points = [0, 0.1, 0.3, 0.6, 1].map((fpr) => ({ fpr, tpr: Math.min(1, fpr + shift) }));
  return JSON.stringify({ roc: points });
}

async function project(sb: Sandbox): Promise<void> {
  for (const d of ['logs', 'eval', 'curves', '.dvc/plots'])
    fs.mkdirSync(sb.path(d), { recursive: true });
  fs.writeFileSync(sb.path('dvc.yaml'), DVC_YAML);
  fs.writeFileSync(sb.path('.dvc/plots/mine.json'), JSON.stringify(CUSTOM));
  fs.writeFileSync(sb.path('logs/loss.csv'), 'epoch,loss\n0,1.0\n1,0.6\n2,0.4\n3,0.3\n');
  fs.writeFileSync(sb.path('logs/acc.tsv'), 'step\tacc\n0\t0.5\n1\t0.7\n2\t0.8\n');
  fs.writeFileSync(sb.path('eval/roc_train.json'), roc(0.3));
  fs.writeFileSync(sb.path('eval/roc_test.json'), roc(0.2));
  fs.writeFileSync(
    sb.path('eval/confusion.csv'),
    'actual,predicted\n0,0\n0,0\n0,1\n1,1\n1,1\n1,0\n1,1\n',
  );
  fs.writeFileSync(
    sb.path('curves/pr.yaml'),
    'pr:\n  - {recall: 0, precision: 1}\n  - {recall: 1, precision: 0.5}\n',
  );
  await sb.git(['add', '-A']);
  await sb.git(['commit', '-qm', 'plots']);
}

test('plots show draws every kind of definition to SVG, PNG and one HTML page', async () => {
  await using sb = await createSandbox();
  await project(sb);
  const r = await sb.cairnOk(['plots', 'show', '--svg', '--png', '--html', '-o', 'out']);
  expect(r.stdout).toContain(`file://${sb.path('out/index.html')}`);
  const names = fs.readdirSync(sb.path('out')).sort();
  expect(names).toEqual(
    [
      'Confusion.png',
      'Confusion.svg',
      'Custom.png',
      'Custom.svg',
      'ROC.png',
      'ROC.svg',
      'curves_pr.yaml.png',
      'curves_pr.yaml.svg',
      'index.html',
      'logs_acc.tsv.png',
      'logs_acc.tsv.svg',
      'logs_loss.csv.png',
      'logs_loss.csv.svg',
    ].sort(),
  );

  // One line per ROC file, told apart in the legend.
  const rocSvg = parseSvg(fs.readFileSync(sb.path('out/ROC.svg'), 'utf8'));
  const lines = marks(rocSvg, 'line');
  expect(lines).toHaveLength(2);
  const legend = inClass(rocSvg, 'role-legend').flatMap(texts);
  expect(legend).toEqual(
    expect.arrayContaining(['workspace · eval/roc_test.json', 'workspace · eval/roc_train.json']),
  );
  expect(texts(rocSvg)).toContain('ROC');

  // Scatter: one symbol per row of the stage's plot output.
  const acc = parseSvg(fs.readFileSync(sb.path('out/logs_acc.tsv.svg'), 'utf8'));
  expect(marks(acc, 'symbol')).toHaveLength(3);

  // Confusion: four cells with their counts written in them.
  const conf = parseSvg(fs.readFileSync(sb.path('out/Confusion.svg'), 'utf8'));
  expect(marks(conf, 'rect')).toHaveLength(4);
  expect(marks(conf, 'text').flatMap(texts).sort()).toEqual(['1', '1', '2', '3']);

  // The custom template was filled: bars, and the title with its suffix.
  const custom = parseSvg(fs.readFileSync(sb.path('out/Custom.svg'), 'utf8'));
  expect(marks(custom, 'rect')).toHaveLength(4);
  expect(texts(custom)).toContain('Custom (custom)');

  const png = decodePng(fs.readFileSync(sb.path('out/ROC.png')));
  const svgWidth = Number(rocSvg.attrs.width);
  expect(png.width).toBe(svgWidth * 2);
  expect(png.height).toBe(Number(rocSvg.attrs.height) * 2);
  expect(inkedPixels(png)).toBeGreaterThan(1000);

  const html = fs.readFileSync(sb.path('out/index.html'), 'utf8');
  expect(html.match(/<svg /g)).toHaveLength(6);
  for (const id of [
    'ROC',
    'Confusion',
    'Custom',
    'logs/loss.csv',
    'logs/acc.tsv',
    'curves/pr.yaml',
  ])
    expect(html).toContain(`<h2>${id}</h2>`);
  expect(html).not.toContain('<script');
});

test('plots diff overlays revisions in one chart with a rev legend; --json gives the specs', async () => {
  await using sb = await createSandbox();
  await project(sb);
  fs.writeFileSync(sb.path('logs/loss.csv'), 'epoch,loss\n0,0.9\n1,0.5\n2,0.2\n3,0.1\n');
  await sb.git(['commit', '-qam', 'better']);
  fs.writeFileSync(sb.path('logs/loss.csv'), 'epoch,loss\n0,0.8\n1,0.4\n2,0.15\n3,0.05\n');

  await sb.cairnOk([
    'plots',
    'diff',
    'HEAD~1',
    'HEAD',
    'workspace',
    '--svg',
    '--targets',
    'logs/loss.csv',
    '-o',
    'd',
  ]);
  const svg = parseSvg(fs.readFileSync(sb.path('d/logs_loss.csv.svg'), 'utf8'));
  expect(marks(svg, 'line')).toHaveLength(3);
  const legend = inClass(svg, 'role-legend').flatMap(texts);
  expect(legend).toEqual(expect.arrayContaining(['rev', 'HEAD~1', 'HEAD', 'workspace']));
  // The target names a file: every plot drawn from it (here also the custom one), and only SVGs.
  expect(fs.readdirSync(sb.path('d')).sort()).toEqual(['Custom.svg', 'logs_loss.csv.svg']);

  const json = JSON.parse((await sb.cairnOk(['plots', 'diff', '--json'])).stdout) as Record<
    string,
    { type: string; revisions: string[]; content: { data: { values: { rev: string }[] } } }[]
  >;
  expect(Object.keys(json).sort()).toEqual(
    ['Confusion', 'Custom', 'ROC', 'curves/pr.yaml', 'logs/acc.tsv', 'logs/loss.csv'].sort(),
  );
  const loss = json['logs/loss.csv']?.[0];
  expect(loss?.type).toBe('vega');
  expect(loss?.revisions).toEqual(['HEAD', 'workspace']);
  expect(loss?.content.data.values.map((v) => v.rev)).toEqual([
    ...Array<string>(4).fill('HEAD'),
    ...Array<string>(4).fill('workspace'),
  ]);
  expect(fs.existsSync(sb.path('dvc_plots'))).toBe(false); // --json alone draws nothing
});

test('bad plot input: an unknown template and a malformed data file are named', async () => {
  await using sb = await createSandbox();
  await project(sb);
  const t = await sb.cairn(['plots', 'show', 'logs/loss.csv', '-t', 'nope']);
  expect(t.code).toBe(1);
  expect(t.stderr).toContain("no template 'nope'");
  fs.writeFileSync(sb.path('eval/roc_test.json'), '{"roc": [{"fpr": 0,}]}');
  const bad = await sb.cairn(['plots', 'show']);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/error: eval\/roc_test\.json:1:20: invalid JSON/);
  const rev = await sb.cairn(['plots', 'diff', 'nope']);
  expect(rev.stderr).toContain("unknown revision 'nope'");
});

test('cairn report writes Markdown with the diffs against --base, PNGs beside it and the stage status', async () => {
  await using sb = await createSandbox();
  await project(sb);
  fs.writeFileSync(sb.path('params.yaml'), 'lr: 0.1\n');
  fs.writeFileSync(sb.path('metrics.json'), '{"acc": 0.8}');
  const yaml = fs.readFileSync(sb.path('dvc.yaml'), 'utf8');
  fs.writeFileSync(
    sb.path('dvc.yaml'),
    yaml.replace(
      '    cmd: echo train\n',
      '    cmd: echo train\n    params:\n      - lr\n    metrics:\n      - metrics.json:\n          cache: false\n',
    ),
  );
  await sb.git(['add', '-A']);
  await sb.git(['commit', '-qm', 'base']);
  await sb.git(['checkout', '-qb', 'feature']);
  fs.writeFileSync(sb.path('params.yaml'), 'lr: 0.3\n');
  fs.writeFileSync(sb.path('metrics.json'), '{"acc": 0.85}');
  fs.writeFileSync(sb.path('logs/loss.csv'), 'epoch,loss\n0,0.5\n1,0.2\n');

  const r = await sb.cairnOk(['report', '--base', 'main', '-o', 'ci/report.md', '--json']);
  const out = JSON.parse(r.stdout) as { file: string; images: string[] };
  expect(out.file).toBe(sb.path('ci/report.md'));
  const md = fs.readFileSync(sb.path('ci/report.md'), 'utf8');
  expect(md).toContain('| metrics.json | acc    | 0.8  | 0.85      | 0.05   |');
  expect(md).toContain('| params.yaml | lr    | 0.1  | 0.3       |');
  const links = [...md.matchAll(/!\[([^\]]*)\]\(([^)]+)\)/g)].map((m) => m[2] ?? '');
  expect(links).toContain('report_plots/logs_loss.csv.png');
  expect(links).toHaveLength(6);
  for (const link of links) {
    const png = decodePng(fs.readFileSync(sb.path(`ci/${decodeURI(link)}`)));
    expect(inkedPixels(png)).toBeGreaterThan(500);
  }
  expect(md).toMatch(/## Pipeline\n\n- `train`: /);
  expect(md).toContain('No ModelKit was packed from this state.');

  // In CI the base often exists only as a remote-tracking branch.
  await sb.git(['update-ref', 'refs/remotes/origin/trunk', 'main']);
  await sb.cairnOk(['report', '--base', 'trunk', '-o', 'r2.md']);
  const r2 = fs.readFileSync(sb.path('r2.md'), 'utf8');
  expect(r2).toContain('Compared with `origin/trunk`');
  expect(r2).toContain('| metrics.json | acc    | 0.8          | 0.85      | 0.05   |');
});
