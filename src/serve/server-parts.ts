/**
 * What `cairn serve` needs once its models are being read, gathered for one dynamic import
 * (commands/serve.ts): imported statically, these modules would hold back the model reads until
 * all of them had loaded, and one import keeps them in one bundle chunk.
 */
export { ADMIN_ROUTES, metricsRoute } from './admin.js';
export { inferenceBackend } from './backend.js';
export { loadConfigVersion, policyOf } from './config-models.js';
export { createApp } from './http.js';
export { ServingObserver } from './instrument.js';
export { ServingMetrics } from './metrics.js';
export { createSourceRuntime, preloadOnnxRuntime } from './onnx-runtime.js';
export { PredictionLog } from './prediction-log.js';
export { ModelSources } from './model-sources.js';
export { ModelRepository } from './repository.js';
export { startServer } from './server.js';
export { TrafficRouter } from './traffic.js';
