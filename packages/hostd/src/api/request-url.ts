// The URL of a request as hostd routes it. `new URL("//x/v1/keys", base)` reads `//x` as a host
// and routes `/v1/keys`: a path rule in a proxy in front of hostd would see one path and hostd
// serve another. A path that starts with `/` is taken as a path, whatever follows.

export function requestUrl(raw: string | undefined): URL {
  const target = raw ?? "/";
  return target.startsWith("/") ? new URL(`http://hostd${target}`) : new URL(target, "http://hostd");
}
