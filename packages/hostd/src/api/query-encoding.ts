// URLSearchParams decodes a bad percent-sequence (`%ff`, a cut `%E0%A4%A`, a lone surrogate's
// `%ED%A0%80`) to U+FFFD, so `?path=/etc/%ff` would name another file than the caller meant.
// The route path refuses such bytes already; the query is held to the same rule.

/** The first part of the query string that is not valid UTF-8 percent-encoding, or undefined. */
export function badQueryPart(search: string): string | undefined {
  if (!search.includes("%")) return undefined;
  for (const pair of search.replace(/^\?/, "").split("&")) {
    for (const part of pair.split("=")) {
      try {
        decodeURIComponent(part.replace(/\+/g, " "));
      } catch {
        return part;
      }
    }
  }
  return undefined;
}

export function badQueryMessage(part: string): string {
  return `${JSON.stringify(part)} in the query is not valid percent-encoding (UTF-8 bytes, each % followed by two hex digits); encode it with encodeURIComponent`;
}
