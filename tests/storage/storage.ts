// The storage module under test. Tests compile into tests/dist/, one level deeper than
// their sources, so a static relative import of the hostd sources does not resolve at run
// time: take the types from the sources and load the built module next to them.
import type * as StorageModule from "../../packages/hostd/src/storage/index.js";

const built = new URL("../../../packages/hostd/dist/storage/index.js", import.meta.url);
const storage: typeof StorageModule = await import(built.href);

export const { createStoragePool, createTemplateManager, ensureDebianPackages, TemplateManager, BtrfsPool, DirPool, renderProgress, sweepBuildLeftovers } =
  storage;
export type StoragePool = StorageModule.StoragePool;
export type StorageDriver = StorageModule.StorageDriver;
export type TemplateProgress = StorageModule.TemplateProgress;
export type TemplateManagerType = StorageModule.TemplateManager;
