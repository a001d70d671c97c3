// REST shapes of the admin key routes: POST/GET /v1/keys, DELETE /v1/keys/:id.

export type TierName = "free" | "pro" | "scale" | "enterprise";

/** Body of POST /v1/keys. `tier` defaults to "free", `name` to "unnamed". */
export interface CreateKeyRequest {
  name?: string;
  tier?: TierName;
  admin?: boolean;
}

/** A stored API key as the API shows it: never the key itself, only its prefix. */
export interface KeyInfo {
  id: string;
  name: string;
  tier: TierName;
  admin: boolean;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** Answer of POST /v1/keys: the only time the plain `key` is shown. */
export interface CreateKeyResponse extends KeyInfo {
  key: string;
}

export interface ListKeysResponse {
  keys: KeyInfo[];
}
