/**
 * Metric families for the request hot path, registered on a prom-client Registry, which
 * formats them with everything else on /metrics. prom-client's own labelled children hash a
 * label object on every `inc`, `dec` and `observe`; these keep one plain record per label set,
 * made once, so recording a request is a few additions. The exposition is what prom-client
 * writes for its Counter, Gauge and Histogram: the same names, types, labels and cumulative
 * `le` buckets.
 */
import type { Registry } from 'prom-client';

type Kind = 'counter' | 'gauge' | 'histogram';

interface FamilyOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly registry: Registry;
}

/** One sample as prom-client's Registry formats it. */
interface Sample {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** What prom-client's Registry asks a metric for. */
interface MetricObject {
  name: string;
  help: string;
  type: Kind;
  values: Sample[];
  aggregator: 'sum';
}

/** A family of series keyed by label values; `S` is the mutable record of one series. */
abstract class Family<L extends string, S> {
  readonly name: string;
  readonly help: string;
  readonly #labelNames: readonly L[];
  readonly #series = new Map<string, { labels: Record<string, string>; series: S }>();

  constructor(o: FamilyOptions<L>) {
    this.name = o.name;
    this.help = o.help;
    this.#labelNames = o.labelNames;
    // The Registry accepts any object with a name and get(); it calls reset() on resetMetrics.
    o.registry.registerMetric(this as never);
  }

  protected abstract fresh(): S;
  protected abstract samples(labels: Record<string, string>, series: S): Sample[];
  abstract readonly type: Kind;

  /** The series of these label values (in labelNames order), made on first use. */
  protected seriesOf(values: readonly string[]): S {
    const key = values.join('\u0000');
    let entry = this.#series.get(key);
    if (entry === undefined) {
      const labels: Record<string, string> = {};
      this.#labelNames.forEach((name, i) => (labels[name] = values[i] ?? ''));
      entry = { labels, series: this.fresh() };
      this.#series.set(key, entry);
    }
    return entry.series;
  }

  /** Drops the series whose labels include all of `match`. */
  remove(match: Partial<Record<L, string>>): void {
    for (const [key, entry] of this.#series) {
      if (Object.entries(match).every(([k, v]) => entry.labels[k] === v)) this.#series.delete(key);
    }
  }

  reset(): void {
    this.#series.clear();
  }

  get(): MetricObject {
    const values: Sample[] = [];
    for (const { labels, series } of this.#series.values())
      values.push(...this.samples(labels, series));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}

/** A counter or gauge series: one number. */
interface Value {
  value: number;
}

/** Counters and gauges: `child(...)` gives the series' record to add to. */
export class ValueFamily<L extends string> extends Family<L, Value> {
  readonly type: 'counter' | 'gauge';

  constructor(type: 'counter' | 'gauge', o: FamilyOptions<L>) {
    super(o);
    this.type = type;
  }

  child(...values: string[]): Value {
    return this.seriesOf(values);
  }

  protected fresh(): Value {
    return { value: 0 };
  }

  protected samples(labels: Record<string, string>, series: Value): Sample[] {
    return [{ value: series.value, labels }];
  }
}

/** A histogram series: counts per bucket (not cumulative), sum and count. */
export class HistogramSeries {
  readonly #bounds: readonly number[];
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.#bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        (this.counts[i] as number) += 1;
        break;
      }
    }
    this.sum += value;
    this.count += 1;
  }
}

export class HistogramFamily<L extends string> extends Family<L, HistogramSeries> {
  readonly type = 'histogram';
  readonly #buckets: readonly number[];

  constructor(o: FamilyOptions<L> & { readonly buckets: readonly number[] }) {
    super(o);
    this.#buckets = [...o.buckets].sort((a, b) => a - b);
  }

  child(...values: string[]): HistogramSeries {
    return this.seriesOf(values);
  }

  protected fresh(): HistogramSeries {
    return new HistogramSeries(this.#buckets);
  }

  protected samples(labels: Record<string, string>, s: HistogramSeries): Sample[] {
    const out: Sample[] = [];
    let cumulative = 0;
    this.#buckets.forEach((le, i) => {
      cumulative += s.counts[i] ?? 0;
      out.push({ value: cumulative, labels: { le, ...labels }, metricName: `${this.name}_bucket` });
    });
    out.push(
      { value: s.count, labels: { le: '+Inf', ...labels }, metricName: `${this.name}_bucket` },
      { value: s.sum, labels, metricName: `${this.name}_sum` },
      { value: s.count, labels, metricName: `${this.name}_count` },
    );
    return out;
  }
}
