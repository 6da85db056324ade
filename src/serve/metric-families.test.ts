import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HistogramFamily, ValueFamily } from './metric-families.js';

// The expected text is prom-client's own: the same observations recorded through its Counter,
// Gauge and Histogram on a second registry must give byte-identical exposition.
describe('metric families', () => {
  const labelNames = ['model', 'version'] as const;
  const buckets = [0.001, 0.01, 0.1, 1];

  it('expose what prom-client Counter, Gauge and Histogram expose for the same data', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const counter = new ValueFamily('counter', {
      name: 'c_total',
      help: 'a counter',
      labelNames,
      registry: ours,
    });
    const gauge = new ValueFamily('gauge', {
      name: 'g',
      help: 'a gauge',
      labelNames,
      registry: ours,
    });
    const histogram = new HistogramFamily({
      name: 'h_seconds',
      help: 'a histogram',
      labelNames,
      buckets,
      registry: ours,
    });
    const pc = new Counter({ name: 'c_total', help: 'a counter', labelNames, registers: [theirs] });
    const pg = new Gauge({ name: 'g', help: 'a gauge', labelNames, registers: [theirs] });
    const ph = new Histogram({
      name: 'h_seconds',
      help: 'a histogram',
      labelNames,
      buckets,
      registers: [theirs],
    });

    const series = [
      ['iris', 'sha256:aa'],
      ['we"ird\\name\n', '2'],
    ] as const;
    const values = [0.0004, 0.001, 0.005, 0.5, 3, 0.05, 0.001];
    for (const [model, version] of series) {
      const labels = { model, version };
      counter.child(model, version).value += 3;
      pc.inc(labels, 3);
      gauge.child(model, version).value += 2;
      gauge.child(model, version).value -= 1;
      pg.inc(labels, 2);
      pg.dec(labels, 1);
      for (const v of values) {
        histogram.child(model, version).observe(v);
        ph.observe(labels, v);
      }
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());

    histogram.remove({ model: 'iris' });
    ph.remove({ model: 'iris', version: 'sha256:aa' });
    counter.remove({ model: 'iris', version: 'sha256:aa' });
    pc.remove({ model: 'iris', version: 'sha256:aa' });
    expect(await ours.metrics()).toBe(await theirs.metrics());

    ours.resetMetrics();
    expect(await ours.metrics()).toBe(
      '# HELP c_total a counter\n# TYPE c_total counter\n\n' +
        '# HELP g a gauge\n# TYPE g gauge\n\n' +
        '# HELP h_seconds a histogram\n# TYPE h_seconds histogram\n',
    );
  });

  it('ignores values that are not finite numbers', () => {
    const h = new HistogramFamily({
      name: 'h',
      help: 'h',
      labelNames: ['m'],
      buckets,
      registry: new Registry(),
    });
    const s = h.child('x');
    s.observe(Number.NaN);
    s.observe(Number.POSITIVE_INFINITY);
    s.observe(0.5);
    expect([s.count, s.sum]).toEqual([1, 0.5]);
  });
});
