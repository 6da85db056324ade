/**
 * The analysis gates of a rollout (Flagger's `request-success-rate`, `request-duration` and a
 * PromQL `thresholdRange`) judged against one measurement of the candidate. Pure: the numbers
 * come from analysis.ts, the verdict goes to the rollout machine.
 */
import type { ModelDeclaration } from './environment.js';

export type AnalysisSpec = NonNullable<NonNullable<ModelDeclaration['rollout']>['analysis']>;

/** What the candidate did during the current step, measured by the agent. */
export interface Measurement {
  /** requests the candidate answered since the step started */
  readonly requests: number;
  /** share of those answered with a 5xx, in percent (0–100) */
  readonly errorRate?: number;
  /** 99th percentile latency, in milliseconds */
  readonly p99Ms?: number;
  /** the value of the `prometheus.query` gate, when one is declared */
  readonly prometheus?: number;
}

export type Verdict =
  | { readonly kind: 'waiting'; readonly message: string }
  | { readonly kind: 'passed' }
  | { readonly kind: 'failed'; readonly message: string };

const fmt = (n: number): string => String(Math.round(n * 1000) / 1000);

/**
 * Gates count only once the candidate has answered `minRequests` in the step (too few
 * requests say nothing); a declared gate with no value is a failure, as Flagger treats
 * "no values found", so a candidate cannot pass by producing no metrics.
 */
export function judge(spec: AnalysisSpec, m: Measurement | undefined): Verdict {
  const requests = m?.requests ?? 0;
  if (m === undefined || requests < spec.minRequests) {
    return {
      kind: 'waiting',
      message: `candidate answered ${String(requests)} of the ${String(spec.minRequests)} requests the gates need`,
    };
  }
  const problems: string[] = [];
  if (spec.maxErrorRate !== undefined) {
    if (m.errorRate === undefined) problems.push('no error rate measured');
    else if (m.errorRate > spec.maxErrorRate) {
      problems.push(`error rate ${fmt(m.errorRate)}% > ${fmt(spec.maxErrorRate)}%`);
    }
  }
  if (spec.maxP99Ms !== undefined) {
    if (m.p99Ms === undefined) problems.push('no p99 latency measured');
    else if (m.p99Ms > spec.maxP99Ms) {
      problems.push(`p99 ${fmt(m.p99Ms)}ms > ${fmt(spec.maxP99Ms)}ms`);
    }
  }
  const prom = spec.prometheus;
  if (prom !== undefined) {
    const value = m.prometheus;
    if (value === undefined) problems.push(`no value for query ${prom.query}`);
    else if (prom.min !== undefined && value < prom.min) {
      problems.push(`query value ${fmt(value)} < min ${fmt(prom.min)}`);
    } else if (prom.max !== undefined && value > prom.max) {
      problems.push(`query value ${fmt(value)} > max ${fmt(prom.max)}`);
    }
  }
  return problems.length === 0
    ? { kind: 'passed' }
    : { kind: 'failed', message: problems.join('; ') };
}
