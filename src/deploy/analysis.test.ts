import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { CairnError } from '../core/errors.js';
import {
  histogramQuantile,
  measure,
  promqlFor,
  queryPrometheus,
  scrape,
  snapshot,
  StepWindows,
} from './analysis.js';
import { parseExposition } from './prom-text.js';

/** A registry with the serving metrics as `cairn serve` names them, written by prom-client. */
function servingMetrics() {
  const registry = new Registry();
  const requests = new Counter({
    name: 'cairn_inference_requests_total',
    help: 'inference requests',
    labelNames: ['model', 'version', 'protocol', 'code'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'cairn_inference_request_duration_seconds',
    help: 'inference latency',
    labelNames: ['model', 'version'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const serve = (version: string, code: string, seconds: number, protocol = 'rest') => {
    requests.inc({ model: 'churn', version, protocol, code });
    duration.observe({ model: 'churn', version }, seconds);
  };
  return { registry, serve };
}

async function listen(handler: http.RequestListener) {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  return {
    url,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('Prometheus text from prom-client', () => {
  test("a version's error rate and p99 over a window are the difference of two scrapes", async () => {
    const { registry, serve } = servingMetrics();
    for (let i = 0; i < 50; i++) serve('v1', '200', 0.03); // before the window, and stable's
    for (let i = 0; i < 10; i++) serve('v2', '200', 0.02);
    await using worker = await listen((_req, res) => {
      void registry.metrics().then((text) => res.end(text));
    });
    const before = await scrape(`${worker.url}/metrics`, 'churn', 'v2');
    expect(before).toMatchObject({ requests: 10, errors: 0 });
    for (let i = 0; i < 90; i++) serve('v2', '200', 0.04, i % 2 === 0 ? 'rest' : 'grpc');
    for (let i = 0; i < 10; i++) serve('v2', '503', 0.7);
    const after = await scrape(`${worker.url}/metrics`, 'churn', 'v2');
    const m = measure(before, after);
    expect(m.requests).toBe(100);
    expect(m.errorRate).toBeCloseTo(10, 10);
    // 100 in the window: 90 in (0.01, 0.05], 10 in (0.5, 1]; rank 99 is the 9th of 10 in (0.5, 1].
    expect(m.p99Ms).toBeCloseTo(950, 6);
    // The stable version's traffic never leaks into the candidate's numbers.
    expect(snapshot(parseExposition(await registry.metrics(), 'x'), 'churn', 'v1').requests).toBe(
      50,
    );
  });

  test('a worker restart (counters back near zero) counts from zero, not negative', () => {
    const before = {
      requests: 500,
      errors: 5,
      buckets: [[1, 500] as const, [Infinity, 500] as const],
    };
    const after = { requests: 40, errors: 4, buckets: [[1, 40] as const, [Infinity, 40] as const] };
    expect(measure(before, after)).toMatchObject({ requests: 40, errorRate: 10 });
  });

  test('no traffic in the window has no error rate and no p99, so the gates wait', () => {
    const same = { requests: 5, errors: 0, buckets: [[0.1, 5] as const, [Infinity, 5] as const] };
    expect(measure(same, same)).toEqual({ requests: 0 });
  });
});

describe('step windows', () => {
  test('measurements count from the first scrape of a step and restart with the next step', () => {
    const at = (requests: number, errors: number) => ({
      requests,
      errors,
      buckets: [[0.1, requests] as const, [Infinity, requests] as const],
    });
    const windows = new StepWindows();
    expect(windows.measure('churn@v2', 1000, at(10, 0))).toEqual({ requests: 0 });
    expect(windows.measure('churn@v2', 1000, at(60, 5))).toMatchObject({
      requests: 50,
      errorRate: 10,
    });
    expect(windows.measure('churn@v2', 9000, at(70, 5))).toEqual({ requests: 0 });
    expect(windows.measure('churn@v2', 9000, at(80, 5))).toMatchObject({
      requests: 10,
      errorRate: 0,
    });
    expect(promqlFor('rate(x{version="{{version}}"}[1m]) / {{version}}', 'v2')).toBe(
      'rate(x{version="v2"}[1m]) / v2',
    );
  });
});

describe('exposition parsing', () => {
  test('escaped label values, special floats and timestamps', () => {
    const text = [
      '# HELP x_total a "help"',
      '# TYPE x_total counter',
      'x_total{path="C:\\\\dir",msg="say \\"hi\\"\\n",empty=""} 3 1700000000000',
      'y NaN',
      'z{le="+Inf",} -Inf',
      // prom-client's spelling of NaN; Prometheus (Go's ParseFloat) takes any case.
      'nodejs_eventloop_lag_mean_seconds Nan',
      'w +inf',
    ].join('\n');
    const [x, y, z, lag, w] = parseExposition(text, 'http://w/metrics');
    expect(lag?.value).toBeNaN();
    expect(w?.value).toBe(Infinity);
    expect(x).toEqual({
      name: 'x_total',
      labels: { path: 'C:\\dir', msg: 'say "hi"\n', empty: '' },
      value: 3,
    });
    expect(y?.value).toBeNaN();
    expect(z).toEqual({ name: 'z', labels: { le: '+Inf' }, value: -Infinity });
  });

  test('a malformed line names the source and line', () => {
    expect(() => parseExposition('ok 1\nbad{a="1"} x\n', 'http://w/metrics')).toThrow(
      /^http:\/\/w\/metrics:2: 'x' is not a number: bad\{a="1"\} x$/,
    );
  });
});

describe('histogramQuantile', () => {
  const buckets = [
    [0.1, 50],
    [0.2, 90],
    [0.5, 99],
    [1, 100],
    [Infinity, 100],
  ] as const;
  test.each([
    [0.5, 0.1],
    [0.9, 0.2],
    [0.95, 0.2 + 0.3 * (5 / 9)],
    [0.99, 0.5],
    [0.25, 0.05],
    [0.995, 0.75],
  ])('q=%f of known buckets is %f', (q, expected) => {
    expect(histogramQuantile(q, buckets)).toBeCloseTo(expected, 12);
  });

  test('a rank in the +Inf bucket answers the highest finite bound; empty answers nothing', () => {
    expect(
      histogramQuantile(0.99, [
        [0.25, 10],
        [Infinity, 100],
      ]),
    ).toBe(0.25);
    expect(
      histogramQuantile(0.99, [
        [0.25, 0],
        [Infinity, 0],
      ]),
    ).toBeUndefined();
    expect(histogramQuantile(0.99, [])).toBeUndefined();
  });
});

describe('queryPrometheus against a server returning the API shape', () => {
  test('vector, scalar, empty, ambiguous and error answers', async () => {
    const answers: Record<string, unknown> = {
      one: {
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: {}, value: [1, '0.25'] }] },
      },
      scalar: { status: 'success', data: { resultType: 'scalar', result: [1, '42'] } },
      none: { status: 'success', data: { resultType: 'vector', result: [] } },
      two: {
        status: 'success',
        data: { resultType: 'vector', result: [{ value: [1, '1'] }, { value: [1, '2'] }] },
      },
      bad: { status: 'error', errorType: 'bad_data', error: 'parse error at char 3' },
    };
    const seen: string[] = [];
    await using api = await listen((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push(url.pathname);
      const q = url.searchParams.get('query') ?? '';
      res.writeHead(q === 'bad' ? 400 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answers[q]));
    });
    expect(await queryPrometheus(api.url, 'one')).toBe(0.25);
    expect(await queryPrometheus(`${api.url}/`, 'scalar')).toBe(42);
    expect(await queryPrometheus(api.url, 'none')).toBeUndefined();
    await expect(queryPrometheus(api.url, 'two')).rejects.toThrow(/2 series, expected one/);
    await expect(queryPrometheus(api.url, 'bad')).rejects.toThrow(
      `${api.url}: query bad: parse error at char 3`,
    );
    expect(new Set(seen)).toEqual(new Set(['/api/v1/query']));
  });

  test('an unreachable server is a metrics-unreachable error', async () => {
    const closed = await listen(() => undefined);
    const url = closed.url;
    await closed[Symbol.asyncDispose]();
    const error: unknown = await queryPrometheus(url, 'up').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CairnError);
    expect((error as CairnError).message).toMatch(/ECONNREFUSED/);
  });
});

async function freePort(): Promise<number> {
  const probe = await listen(() => undefined);
  const port = Number(new URL(probe.url).port);
  await probe[Symbol.asyncDispose]();
  return port;
}

const PROMETHEUS = '/usr/bin/prometheus';

// Skipped only where Prometheus is missing and CI did not ask for every tool (CAIRN_REQUIRE_TOOLS).
const runPrometheus = fs.existsSync(PROMETHEUS) || process.env.CAIRN_REQUIRE_TOOLS === '1';

describe.skipIf(!runPrometheus)('against a real Prometheus', () => {
  test('the PromQL gate reads what Prometheus scraped, and its p99 agrees with ours', async () => {
    const { registry, serve } = servingMetrics();
    for (let i = 0; i < 97; i++) serve('v2', '200', 0.004 + (i % 40) * 0.006);
    for (let i = 0; i < 3; i++) serve('v2', '500', 0.8);
    await using worker = await listen((_req, res) => {
      void registry.metrics().then((text) => res.end(text));
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-prom-'));
    const config = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(
      config,
      `global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: worker\n    static_configs: [{targets: ['${new URL(worker.url).host}']}]\n`,
    );
    const port = await freePort();
    const prom = spawn(
      PROMETHEUS,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${String(port)}`,
      ],
      { stdio: 'ignore' },
    );
    const server = `http://127.0.0.1:${String(port)}`;
    try {
      const total = 'sum(cairn_inference_requests_total{model="churn",version="v2"})';
      let value: number | undefined;
      for (let tries = 0; tries < 150 && value === undefined; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        value = await queryPrometheus(server, total).catch(() => undefined);
      }
      expect(value).toBe(100);
      const errorRate = await queryPrometheus(
        server,
        'sum(cairn_inference_requests_total{version="v2",code=~"5.."}) / sum(cairn_inference_requests_total{version="v2"}) * 100',
      );
      expect(errorRate).toBeCloseTo(3, 10);
      const theirs = await queryPrometheus(
        server,
        'histogram_quantile(0.99, sum by (le) (cairn_inference_request_duration_seconds_bucket{version="v2"}))',
      );
      const ours = snapshot(parseExposition(await registry.metrics(), 'x'), 'churn', 'v2');
      expect(histogramQuantile(0.99, ours.buckets)).toBeCloseTo(theirs ?? Number.NaN, 12);
      expect(
        await queryPrometheus(server, 'cairn_inference_requests_total{version="v9"}'),
      ).toBeUndefined();
    } finally {
      const exited = new Promise((resolve) => prom.once('exit', resolve));
      prom.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
