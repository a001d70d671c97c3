export * from "./errors.js";
export * from "./rest.js";
export * from "./frames.js";
export * from "./region-tag.js";
