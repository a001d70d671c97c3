// Access tokens for sandbox traffic. An E2B client authenticates envd and code-interpreter
// calls with the `envdAccessToken` / `trafficAccessToken` it got from create or connect, not
// with its API key. Ours are sealed (AES-256-GCM, a key kept in the state dir so they survive
// a hostd restart) and hold the sandbox id and the caller's API key: a token opens only the
// sandbox it was made for, and each call still goes through the REST API with that key, so a
// revoked key revokes its tokens and another owner's sandbox stays out of reach.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const AAD = Buffer.from("podflare-e2b-token-v1");
// Tokens opened lately, remembered so a hot sandbox call skips the decryption; a token is
// immutable, so what it opened to stays true (the key in it is still checked on every call).
const REMEMBERED = 1024;

export class AccessTokens {
  private readonly opened = new Map<string, { sandboxId: string; key: string | undefined }>();

  constructor(private readonly secret: Buffer) {
    if (secret.length !== 32) throw new Error("the E2B token key must be 32 bytes");
  }

  /** Loads `<stateDir>/e2b-token.key`, making it (mode 0600) on first use. */
  static load(stateDir: string): AccessTokens {
    const file = path.join(stateDir, "e2b-token.key");
    try {
      return new AccessTokens(fs.readFileSync(file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const secret = crypto.randomBytes(32);
    try {
      fs.writeFileSync(file, secret, { mode: 0o600, flag: "wx" });
      return new AccessTokens(secret);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      return new AccessTokens(fs.readFileSync(file));
    }
  }

  issue(sandboxId: string, key: string | undefined): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv("aes-256-gcm", this.secret, iv);
    cipher.setAAD(AAD);
    const sealed = Buffer.concat([cipher.update(JSON.stringify({ s: sandboxId, k: key ?? "" }), "utf8"), cipher.final()]);
    return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString("base64url");
  }

  /** The key a token carries, if it is ours and made for this sandbox; otherwise null. */
  open(token: string, sandboxId: string): { key: string | undefined } | null {
    let v = this.opened.get(token);
    if (!v) {
      const sealed = this.unseal(token);
      if (!sealed) return null;
      v = sealed;
      if (this.opened.size >= REMEMBERED) this.opened.delete(this.opened.keys().next().value!);
      this.opened.set(token, v);
    }
    return v.sandboxId === sandboxId ? { key: v.key } : null;
  }

  private unseal(token: string): { sandboxId: string; key: string | undefined } | null {
    const raw = Buffer.from(token, "base64url");
    if (raw.length < 12 + 16 + 2 || raw.length > 4096) return null;
    // Only the exact form we issue: no aliases of one token (padding, ignored characters).
    if (raw.toString("base64url") !== token) return null;
    try {
      const decipher = crypto.createDecipheriv("aes-256-gcm", this.secret, raw.subarray(0, 12));
      decipher.setAAD(AAD);
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString("utf8");
      const v = JSON.parse(plain) as { s?: unknown; k?: unknown };
      if (typeof v.s !== "string" || typeof v.k !== "string") return null;
      return { sandboxId: v.s, key: v.k === "" ? undefined : v.k };
    } catch {
      return null;
    }
  }
}
