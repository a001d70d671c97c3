export * from "./errors.js";
export * from "./rest.js";
export * from "./frames.js";
export * from "./rest-spaces.js";
export * from "./rest-keys.js";
export * from "./rest-host.js";
export * from "./region-tag.js";
