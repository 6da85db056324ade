/**
 * Types for the prom-client modules `serve/metrics.ts` imports one by one. The package's index
 * also loads its Pushgateway (node:https, node:zlib), Summary and cluster aggregator, which a
 * server never uses; skipping them saves ~15 ms of every `cairn serve` start. The classes are
 * the index's own (it re-exports these modules), so the types are taken from it.
 */
declare module 'prom-client/lib/registry.js' {
  import { Registry } from 'prom-client';
  export default Registry;
}

declare module 'prom-client/lib/gauge.js' {
  import { Gauge } from 'prom-client';
  export default Gauge;
}

declare module 'prom-client/lib/defaultMetrics.js' {
  import { collectDefaultMetrics } from 'prom-client';
  export default collectDefaultMetrics;
}
