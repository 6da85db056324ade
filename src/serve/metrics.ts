/**
 * The serving metrics `cairn serve` exposes on /metrics, on a registry of their own (never
 * prom-client's global one, so two servers in one process or a test never share counters).
 * Names follow Prometheus base units (seconds) and the KServe/Triton split of a request into
 * queue, inference and total time. docs/serving-metrics.md documents every name and label.
 */
import type { Gauge, Registry } from 'prom-client';
// One module each rather than the package index: see prom-client-parts.d.ts.
import collectDefaultMetrics from 'prom-client/lib/defaultMetrics.js';
import GaugeClass from 'prom-client/lib/gauge.js';
import RegistryClass from 'prom-client/lib/registry.js';
import { HistogramFamily, ValueFamily } from './metric-families.js';

/** The front end a request came through. */
export type Protocol = 'rest' | 'grpc' | 'v1';

export interface ModelLabels {
  readonly model: string;
  readonly version: string;
}

export interface RequestObservation extends ModelLabels {
  readonly protocol: Protocol;
  /** HTTP status of the answer; gRPC answers report the HTTP status of their failure, 200 if OK */
  readonly status: number;
  /** seconds spent waiting for a batch or a free runtime; absent if the request never queued */
  readonly queueSeconds?: number | undefined;
  /** seconds the runtime spent on the run that answered it; absent if it never ran */
  readonly inferSeconds?: number | undefined;
  /** seconds from receiving the request to sending the answer */
  readonly totalSeconds: number;
}

/** Latency buckets in seconds: 0.5 ms to 30 s. */
const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
/** Rows per run: powers of two up to 1024. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

export interface ServingMetricsOptions {
  /** also export Node's process metrics (CPU, memory, event loop, GC); default true */
  readonly processMetrics?: boolean;
}

interface Observe {
  observe(value: number): void;
}

/** The series of one answer kind (protocol and status) of one version. */
interface AnswerSeries {
  readonly requests: { value: number };
  readonly total: Observe;
}

/**
 * The series of one model version, looked up once per request: the hot-path families
 * (`metric-families.ts`) hand out plain records to add to, where prom-client's children
 * validate and hash a label object on every `inc` or `observe`. Answer series are keyed by
 * protocol, then status.
 */
interface VersionSeries {
  readonly queue: Observe;
  readonly infer: Observe;
  readonly batch: Observe;
  readonly inFlight: { value: number };
  readonly answers: Map<Protocol, Map<number, AnswerSeries>>;
}

/** Serving metrics of one server. */
export class ServingMetrics {
  readonly registry: Registry = new RegistryClass();
  readonly #requests: ValueFamily<'model' | 'version' | 'protocol' | 'code'>;
  readonly #queue: HistogramFamily<'model' | 'version'>;
  readonly #infer: HistogramFamily<'model' | 'version'>;
  readonly #total: HistogramFamily<'model' | 'version' | 'protocol'>;
  readonly #batch: HistogramFamily<'model' | 'version'>;
  readonly #inFlight: ValueFamily<'model' | 'version'>;
  readonly #load: Gauge<'model' | 'version'>;

  constructor(options: ServingMetricsOptions = {}) {
    const registry = this.registry;
    const registers = [registry];
    this.#requests = new ValueFamily('counter', {
      name: 'cairn_inference_requests_total',
      help: 'Inference requests answered, by model, version, protocol and HTTP status code.',
      labelNames: ['model', 'version', 'protocol', 'code'],
      registry,
    });
    this.#queue = new HistogramFamily({
      name: 'cairn_inference_queue_duration_seconds',
      help: 'Time a request waited for a batch or a free runtime, in seconds.',
      labelNames: ['model', 'version'],
      buckets: LATENCY_BUCKETS,
      registry,
    });
    this.#infer = new HistogramFamily({
      name: 'cairn_inference_compute_duration_seconds',
      help: 'Time the runtime spent on the run that answered a request, in seconds.',
      labelNames: ['model', 'version'],
      buckets: LATENCY_BUCKETS,
      registry,
    });
    this.#total = new HistogramFamily({
      name: 'cairn_inference_request_duration_seconds',
      help: 'Time from receiving a request to answering it, in seconds.',
      labelNames: ['model', 'version', 'protocol'],
      buckets: LATENCY_BUCKETS,
      registry,
    });
    this.#batch = new HistogramFamily({
      name: 'cairn_inference_batch_size',
      help: 'Rows per runtime execution (1 without batching).',
      labelNames: ['model', 'version'],
      buckets: BATCH_BUCKETS,
      registry,
    });
    this.#inFlight = new ValueFamily('gauge', {
      name: 'cairn_inference_requests_in_flight',
      help: 'Requests received and not yet answered.',
      labelNames: ['model', 'version'],
      registry,
    });
    this.#load = new GaugeClass({
      name: 'cairn_model_load_duration_seconds',
      help: 'How long the last load of a model version took, in seconds.',
      labelNames: ['model', 'version'],
      registers,
    });
    // The event-loop lag monitor samples once a second, not prom-client's every 10 ms: its
    // wake-ups were most of an idle server's CPU (an agent runs one per environment), 23 clock
    // ticks in 30 s at 10 ms, 4 at 100 ms, 1 at 1 s. A blocked loop still shows: the sample
    // after it comes late by as long as it was blocked.
    if (options.processMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 1000 });
  }

  /** Counts one answered request and records its latencies. */
  observeRequest(o: RequestObservation): void {
    const version = this.#version(o);
    let byStatus = version.answers.get(o.protocol);
    if (byStatus === undefined) {
      byStatus = new Map();
      version.answers.set(o.protocol, byStatus);
    }
    let answer = byStatus.get(o.status);
    if (answer === undefined) {
      answer = {
        requests: this.#requests.child(o.model, o.version, o.protocol, String(o.status)),
        total: this.#total.child(o.model, o.version, o.protocol),
      };
      byStatus.set(o.status, answer);
    }
    answer.requests.value += 1;
    answer.total.observe(o.totalSeconds);
    if (o.queueSeconds !== undefined) version.queue.observe(o.queueSeconds);
    if (o.inferSeconds !== undefined) version.infer.observe(o.inferSeconds);
  }

  /** model → version → its series */
  readonly #versions = new Map<string, Map<string, VersionSeries>>();

  #version(labels: ModelLabels): VersionSeries {
    let versions = this.#versions.get(labels.model);
    if (versions === undefined) {
      versions = new Map();
      this.#versions.set(labels.model, versions);
    }
    let series = versions.get(labels.version);
    if (series === undefined) {
      const { model, version } = labels;
      series = {
        queue: this.#queue.child(model, version),
        infer: this.#infer.child(model, version),
        batch: this.#batch.child(model, version),
        inFlight: this.#inFlight.child(model, version),
        answers: new Map(),
      };
      versions.set(version, series);
    }
    return series;
  }

  /** Records one runtime execution of `rows` rows. */
  observeBatch(labels: ModelLabels, rows: number): void {
    this.#version(labels).batch.observe(rows);
  }

  /** Records one request's wait for a batch (the batcher knows it; the front end does not). */
  observeQueue(labels: ModelLabels, seconds: number): void {
    this.#version(labels).queue.observe(seconds);
  }

  /** Records how long loading a model version took. */
  observeLoad(labels: ModelLabels, seconds: number): void {
    this.#load.set({ model: labels.model, version: labels.version }, seconds);
  }

  /** Marks a request in flight; call the returned function once when it is answered. */
  startRequest(labels: ModelLabels): () => void {
    const inFlight = this.#version(labels).inFlight;
    inFlight.value += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      inFlight.value -= 1;
    };
  }

  /** Drops the per-version series of a version that was unloaded (its counters restart at 0). */
  forget(labels: ModelLabels): void {
    this.#versions.get(labels.model)?.delete(labels.version);
    const key = { model: labels.model, version: labels.version };
    for (const family of [this.#queue, this.#infer, this.#batch, this.#inFlight])
      family.remove(key);
    this.#load.remove(key);
  }

  /** The Content-Type header for `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition for GET /metrics. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
