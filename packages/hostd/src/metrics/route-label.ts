// A route's pattern as a metric label and log field: "/v1/sandboxes/:id/exec", never the raw
// path, so no sandbox id (or anything a caller typed) ends up in a label or a log line.

export function routeLabel(pattern: RegExp): string {
  return pattern.source
    .replace(/\\\//g, "/")
    .replace(/^\^/, "")
    .replace(/\$$/, "")
    .replace(/\(\?:\/\.\*\)\?/g, "/*")
    .replace(/ports\/\([^)]*\)/g, "ports/:port")
    .replace(/^\/dashboard\/\(\.\+\)/, "/dashboard/:file")
    .replace(/\([^)]*\)/g, ":id");
}
