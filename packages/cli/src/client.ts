// The few REST calls the CLI makes, with the same env variables as the SDKs.
export function hostdUrl(): string {
  return (process.env.PODFLARE_HOSTD_URL || "http://127.0.0.1:7070").replace(/\/+$/, "");
}

export async function call(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (process.env.PODFLARE_API_KEY) headers.authorization = `Bearer ${process.env.PODFLARE_API_KEY}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(hostdUrl() + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new Error(`cannot reach hostd at ${hostdUrl()} (${(err as Error).message}); start it with \`npx podflare serve\``);
  }
  if (!res.ok) {
    const text = await res.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      /* not JSON */
    }
    throw new Error(`${res.status}: ${message}`);
  }
  return res;
}
