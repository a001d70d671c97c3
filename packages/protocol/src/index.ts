export * from "./errors.js";
export * from "./rest.js";
export * from "./frames.js";
export * from "./rest-processes.js";
export * from "./rest-fs.js";
export * from "./frames-processes.js";
