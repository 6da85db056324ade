import { describe, expect, it } from 'vitest';
import { ServingMetrics } from './metrics.js';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses Prometheus text exposition (format 0.0.4) into samples and their declared types. */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type?.[1] !== undefined && type[2] !== undefined) types.set(type[1], type[2]);
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] === undefined || match[3] === undefined)
      throw new Error(`bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] ?? ''] = (pair[2] ?? '').replace(/\\(.)/g, (_, c: string) =>
        c === 'n' ? '\n' : c,
      );
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return { samples, types };
}

function value(
  samples: Sample[],
  name: string,
  labels: Record<string, string>,
): number | undefined {
  return samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

describe('ServingMetrics', () => {
  it('counts requests by model, version, protocol and code, with latency histograms', async () => {
    const metrics = new ServingMetrics({ processMetrics: false });
    const iris = { model: 'iris', version: 'sha256:aa' };
    metrics.observeRequest({
      ...iris,
      protocol: 'rest',
      status: 200,
      queueSeconds: 0.002,
      inferSeconds: 0.01,
      totalSeconds: 0.013,
    });
    metrics.observeRequest({
      ...iris,
      protocol: 'rest',
      status: 200,
      queueSeconds: 0,
      inferSeconds: 0.2,
      totalSeconds: 0.21,
    });
    metrics.observeRequest({ ...iris, protocol: 'grpc', status: 400, totalSeconds: 0.001 });
    const { samples, types } = parse(await metrics.text());

    expect(types.get('cairn_inference_requests_total')).toBe('counter');
    const requests = 'cairn_inference_requests_total';
    expect(value(samples, requests, { ...iris, protocol: 'rest', code: '200' })).toBe(2);
    expect(value(samples, requests, { ...iris, protocol: 'grpc', code: '400' })).toBe(1);

    expect(types.get('cairn_inference_request_duration_seconds')).toBe('histogram');
    const total = 'cairn_inference_request_duration_seconds';
    expect(value(samples, `${total}_count`, { ...iris, protocol: 'rest' })).toBe(2);
    expect(value(samples, `${total}_sum`, { ...iris, protocol: 'rest' })).toBeCloseTo(0.223, 9);
    expect(value(samples, `${total}_bucket`, { ...iris, protocol: 'rest', le: '0.025' })).toBe(1);
    expect(value(samples, `${total}_bucket`, { ...iris, protocol: 'rest', le: '+Inf' })).toBe(2);

    // The failed request never queued nor ran: only the two successes are in these.
    expect(value(samples, 'cairn_inference_queue_duration_seconds_count', iris)).toBe(2);
    expect(value(samples, 'cairn_inference_compute_duration_seconds_count', iris)).toBe(2);
    expect(value(samples, 'cairn_inference_compute_duration_seconds_sum', iris)).toBeCloseTo(
      0.21,
      9,
    );
  });

  it('records batch sizes, load time and requests in flight', async () => {
    const metrics = new ServingMetrics({ processMetrics: false });
    const m = { model: 'mnist', version: 'v2' };
    for (const rows of [1, 3, 8, 8]) metrics.observeBatch(m, rows);
    metrics.observeLoad(m, 1.5);
    const first = metrics.startRequest(m);
    const second = metrics.startRequest(m);
    let { samples } = parse(await metrics.text());
    expect(value(samples, 'cairn_inference_batch_size_count', m)).toBe(4);
    expect(value(samples, 'cairn_inference_batch_size_sum', m)).toBe(20);
    expect(value(samples, 'cairn_inference_batch_size_bucket', { ...m, le: '4' })).toBe(2);
    expect(value(samples, 'cairn_model_load_duration_seconds', m)).toBe(1.5);
    expect(value(samples, 'cairn_inference_requests_in_flight', m)).toBe(2);

    first();
    first(); // a second call is harmless
    ({ samples } = parse(await metrics.text()));
    expect(value(samples, 'cairn_inference_requests_in_flight', m)).toBe(1);
    second();

    metrics.forget(m);
    ({ samples } = parse(await metrics.text()));
    expect(value(samples, 'cairn_model_load_duration_seconds', m)).toBeUndefined();
    expect(value(samples, 'cairn_inference_batch_size_count', m)).toBeUndefined();
  });

  it('keeps each server apart and escapes odd model names', async () => {
    const a = new ServingMetrics({ processMetrics: false });
    const b = new ServingMetrics({ processMetrics: false });
    const odd = { model: 'we"ird\\name', version: '1' };
    a.observeRequest({ ...odd, protocol: 'v1', status: 503, totalSeconds: 0.5 });
    const fromA = parse(await a.text()).samples;
    expect(
      value(fromA, 'cairn_inference_requests_total', { ...odd, protocol: 'v1', code: '503' }),
    ).toBe(1);
    expect(
      parse(await b.text()).samples.filter((s) => s.name === 'cairn_inference_requests_total'),
    ).toEqual([]);
  });

  it('exports process metrics on its own registry', async () => {
    const metrics = new ServingMetrics();
    const { samples, types } = parse(await metrics.text());
    expect(types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(value(samples, 'process_resident_memory_bytes', {})).toBeGreaterThan(0);
    expect(types.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
