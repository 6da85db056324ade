/** Cairn's library API: the same functions the CLI calls, importable without it. */
export { CairnError, DigestMismatchError, LockTimeoutError, ManifestError } from './core/errors.js';
export type { ErrorCode } from './core/errors.js';
export type {
  CairnEvent,
  EventSink,
  LayerDownloaded,
  LayerUploaded,
  LockWaited,
  StageSkipped,
  StageFailed,
} from './core/events.js';
export { loadConfig, KEYS as CONFIG_KEYS, type Config, type LinkType } from './core/config.js';
export { openRepo, findRoot, type Repo } from './core/repo.js';
export { parseMd5, type Md5Hex } from './core/digest.js';
export { dumpYaml } from './core/ruamel-yaml.js';
export { pythonJsonDumps } from './core/python-json.js';
export { Workspace } from './data/workspace.js';
export { hashOutput, type OutputInfo } from './data/tree.js';
export { buildManifest, parseManifest, sortEntries, type ManifestEntry } from './data/manifest.js';
export {
  parseDvcFile,
  serializeDvcFile,
  readDvcFile,
  type DvcFile,
  type DvcOut,
} from './data/dvcfile.js';
export { init, type InitOptions } from './commands/init.js';
export { add, status, checkout, commit, unprotect } from './commands/data.js';
export { gc, fsck } from './commands/gc.js';
export { configGet, configList, configSet } from './commands/config.js';
export type { CommandContext } from './commands/context.js';
export { repro, dag, type ReproOptions } from './commands/pipeline.js';
export {
  metricsShow,
  metricsDiff,
  paramsDiff,
  type MetricsShowOptions,
  type MetricsDiffOptions,
} from './commands/metrics.js';
export { plots, diffRevisions, type PlotsOptions, type PlotsResult } from './commands/plots.js';
export { report, type ReportOptions, type ReportResult } from './commands/report.js';
export {
  expRun,
  expShow,
  expList,
  expDiff,
  expApply,
  expBranch,
  expRemove,
  expPush,
  expPull,
  expQueueAdd,
  expQueueStart,
  expQueueStatus,
  expQueueLogs,
  expQueueKill,
  expQueueRemove,
  type ExpRunOptions,
  type ExpRunResult,
} from './commands/exp.js';
export { serve, type ServeOptions, type ServeHandle, type ServedModel } from './commands/serve.js';
export {
  ModelRepository,
  type Loader,
  type LoadRequest,
  type IndexEntry,
} from './serve/repository.js';
export { createApp, type AppOptions } from './serve/http.js';
export { execute, inferenceBackend, metadataOf } from './serve/backend.js';
export type { ModelMetadata } from './serve/types.js';
export type { Route, RouteContext, Reply } from './serve/routes.js';
export * from './serve/types.js';
export type { ReproEvent, ReproSink, StageFailure } from './pipeline/events.js';
export type { ReproResult, StageResult } from './pipeline/executor.js';
export type { PipelineStatusReport, StatusItem } from './pipeline/status.js';
export { parsePipeline, readPipeline, type Pipeline } from './pipeline/parse.js';
export type { Stage, StageDep, StageOut, StageParams } from './pipeline/stage.js';
export {
  parseLockFile,
  serializeLockFile,
  type LockEntry,
  type LockFile,
  type LockItem,
} from './pipeline/lockfile.js';
export { runCacheKey, runCacheValue } from './pipeline/run-cache.js';
// Registry transport (issue 5): push and pull of ModelKits, remote reads, referrers.
export { RegistryClient, type ClientOptions } from './oci/registry/client.js';
export { RegistryError, TransportError } from './oci/registry/errors.js';
export {
  push,
  pull,
  type PushOptions,
  type PullOptions,
  type TransferResult,
  type BlobReport,
} from './oci/registry/transfer.js';
export { listReferrers, pushReferrer, referrersTag } from './oci/registry/referrers.js';
// Environments rendered as Kubernetes manifests (issue 11).
export {
  readEnvironment,
  parseEnvironment,
  type Environment,
  type ModelDeclaration,
} from './deploy/environment.js';
export {
  renderKubernetes,
  renderedStream,
  writeRendered,
  DEFAULT_IMAGE,
  type RenderOptions,
  type RenderedFile,
} from './deploy/render-k8s.js';
export { parseDuration } from './core/duration.js';
// CI reports on GitHub and GitLab (issue 12).
export { postComment, type PostCommentOptions, type PostedComment } from './forge/comment.js';
export { ciInit, type CiInitOptions, type CiInitResult } from './forge/ci-init.js';
export { readForgeContext, type ForgeContext, type ForgeKind } from './forge/env.js';
export { parseTarget, type TargetSpec } from './forge/target.js';
export type { CommentTarget } from './forge/driver.js';
