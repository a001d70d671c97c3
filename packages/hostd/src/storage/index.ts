// Storage: the pool (btrfs or dir) holding templates and sandbox roots, and the templates
// built into it. The rest of hostd uses only what is exported here.

export type { DiskGroup, DiskGroupUsage, StorageDriver, StorageOptions, StoragePool, TeardownOptions } from "./types.js";
export { createStoragePool, openStoragePool, poolFor } from "./pool.js";
export { BtrfsPool } from "./btrfs-pool.js";
export { defaultPoolSizeGb } from "./pool-image.js";
export { DirPool } from "./dir-pool.js";
export { findLeftoverPool, removeLeftoverPool, type LeftoverPool } from "./leftover-pool.js";
export { mountAt } from "./mounts.js";
export { buildTmpRoot, sweepBuildLeftovers } from "./mmdebstrap.js";
export {
  TemplateManager,
  createTemplateManager,
  type BuildOptions,
  type TemplateInfo,
  type TemplateManagerOptions,
  type TemplateManifest,
} from "./templates.js";
export { templateSpec, templateSpecs, specHash, type TemplateSpec } from "./template-specs.js";
export type { ProgressFn, TemplatePhase, TemplateProgress } from "./mmdebstrap.js";
/** The same as TemplateProgress, under the name hostd uses. */
export type { TemplateProgress as ProgressEvent } from "./mmdebstrap.js";
export { renderProgress, formatProgress, type ProgressRenderer, type ProgressStream } from "./progress-render.js";
export { ensureDebianPackages, missingDebianPackages } from "./debian-packages.js";
export { UID_RANGE } from "./rootfs.js";
export { isSandboxId, assertSandboxId, isSpaceId, assertSpaceId, clipId } from "./names.js";
