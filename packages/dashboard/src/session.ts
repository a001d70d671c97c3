// The API key lives in this tab's sessionStorage only: never in a URL, a cookie or localStorage,
// so it is gone when the tab closes and is never sent anywhere but hostd's API.
const KEY = "podflare.apiKey";

export function getKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setKey(key: string): void {
  sessionStorage.setItem(KEY, key);
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}
