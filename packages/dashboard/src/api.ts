// Calls to hostd's REST API with the signed-in key. The key lives in sessionStorage (gone when
// the tab closes, never in a URL or a cookie) and goes out only as an Authorization header.
const KEY = "podflare.key";

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY),
  signIn: (key: string): void => sessionStorage.setItem(KEY, key),
  signOut: (): void => sessionStorage.removeItem(KEY),
};

let onUnauthorized: () => void = () => {};
/** What to do when a call answers 401 (the key was revoked or is wrong): back to sign-in. */
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = session.key();
  return key ? { authorization: `Bearer ${key}`, ...extra } : extra;
}

/** The raw answer; a non-2xx answer throws ApiError with hostd's code and message. */
export async function request(method: string, path: string, body?: BodyInit | object, extra: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  const isJson = body !== undefined && !(body instanceof Blob) && !(body instanceof ArrayBuffer) && typeof body !== "string";
  const res = await fetch(path, {
    method,
    headers: headers(isJson ? { "content-type": "application/json", ...extra } : extra),
    body: body === undefined ? undefined : isJson ? JSON.stringify(body) : (body as BodyInit),
    signal,
  });
  if (res.ok) return res;
  let code = "http_error";
  let message = `${method} ${path}: HTTP ${res.status}`;
  try {
    const e = (await res.json()) as { code?: string; error?: string };
    code = e.code ?? code;
    message = e.error ?? message;
  } catch {
    /* not the JSON envelope */
  }
  if (res.status === 401) onUnauthorized();
  throw new ApiError(res.status, code, message);
}

export async function call<T>(method: string, path: string, body?: object): Promise<T> {
  const res = await request(method, path, body);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Checks a key without keeping it: what /v1/capacity says about it, or the ApiError. */
export async function probeKey(key: string): Promise<{ admin: boolean }> {
  const res = await fetch("/v1/capacity", { headers: { authorization: `Bearer ${key}` } });
  if (!res.ok) {
    const e = (await res.json().catch(() => ({}))) as { code?: string; error?: string };
    throw new ApiError(res.status, e.code ?? "http_error", e.error ?? `HTTP ${res.status}`);
  }
  const cap = (await res.json()) as { scope: string };
  return { admin: cap.scope === "host" };
}
