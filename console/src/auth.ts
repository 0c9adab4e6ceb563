// Signing in. The token lives in memory and in sessionStorage (gone with the tab, never in
// localStorage); the claims are read for display only: the API verifies every token.
// In AWS: Cognito's hosted UI, authorization code with PKCE (RFC 7636). Locally: the local
// stack's POST /local/token.

import type { CognitoAuth } from "./config";

export const ROLES = ["assets-reader", "assets-writer", "assets-admin"] as const;
export type Role = (typeof ROLES)[number];

export interface Session {
  token: string;
  sub: string;
  roles: Role[];
  expiresAt: number; // ms since the epoch
  refreshToken?: string; // Cognito's: kept in memory only, never stored
}

const SESSION_KEY = "assets-console.session";
const PKCE_KEY = "assets-console.pkce";

export function base64url(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text: string): string {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(padded + "=".repeat((4 - (padded.length % 4)) % 4));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** The token's claims (not verified here: the API does that). */
export function claimsOf(token: string): Record<string, unknown> {
  const parts = token.split(".");
  if (parts.length !== 3) throw new Error("The token is not a JWT.");
  const claims: unknown = JSON.parse(fromBase64url(parts[1]));
  if (typeof claims !== "object" || claims === null) throw new Error("The token has no claims.");
  return claims as Record<string, unknown>;
}

/** Roles as the API reads them: the cognito:groups claim, or the scope claim (space-separated,
 * each possibly prefixed by a resource server, e.g. "assets/assets-writer"). A writer is also a
 * reader, an admin also a writer. */
export function rolesOf(claims: Record<string, unknown>): Role[] {
  const named = new Set<string>();
  const groups = claims["cognito:groups"];
  if (Array.isArray(groups)) for (const g of groups) named.add(String(g));
  if (typeof claims.scope === "string") {
    for (const s of claims.scope.split(" ")) named.add(s.split("/").pop() ?? s);
  }
  const roles = new Set<Role>();
  if (named.has("assets-admin")) ["assets-admin", "assets-writer", "assets-reader"].forEach((r) => roles.add(r as Role));
  if (named.has("assets-writer")) ["assets-writer", "assets-reader"].forEach((r) => roles.add(r as Role));
  if (named.has("assets-reader")) roles.add("assets-reader");
  return ROLES.filter((r) => roles.has(r));
}

export function sessionOf(token: string): Session {
  const claims = claimsOf(token);
  const exp = typeof claims.exp === "number" ? claims.exp * 1000 : Date.now() + 3600_000;
  const sub = String(claims.username ?? claims["cognito:username"] ?? claims.sub ?? "unknown");
  return { token, sub, roles: rolesOf(claims), expiresAt: exp };
}

export function saveSession(session: Session, store: Storage = sessionStorage): void {
  const { refreshToken: _kept, ...stored } = session;
  void _kept;
  store.setItem(SESSION_KEY, JSON.stringify(stored));
}

export function restoreSession(store: Storage = sessionStorage, now = Date.now()): Session | null {
  const saved = store.getItem(SESSION_KEY);
  if (!saved) return null;
  try {
    const session = JSON.parse(saved) as Session;
    if (typeof session.token !== "string" || session.expiresAt <= now) {
      store.removeItem(SESSION_KEY);
      return null;
    }
    return session;
  } catch {
    store.removeItem(SESSION_KEY);
    return null;
  }
}

export function forgetSession(store: Storage = sessionStorage): void {
  store.removeItem(SESSION_KEY);
  store.removeItem(PKCE_KEY);
}

// -- the local stack -------------------------------------------------------------------------

export async function localSignIn(
  api: string,
  sub: string,
  role: Role,
  fetcher: typeof fetch = fetch,
): Promise<Session> {
  const answer = await fetcher(`${api}/local/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ sub, roles: [role], expires_in: 8 * 3600 }),
  });
  const body = (await answer.json().catch(() => null)) as Record<string, unknown> | null;
  if (!answer.ok || !body || typeof body.access_token !== "string") {
    const error = body?.error as { message?: string } | undefined;
    throw new Error(error?.message ?? `Signing in failed (HTTP ${answer.status}).`);
  }
  return sessionOf(body.access_token);
}

// -- Cognito's hosted UI: authorization code with PKCE ---------------------------------------

export function randomVerifier(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

export async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

export async function authorizeUrl(
  auth: CognitoAuth,
  store: Storage = sessionStorage,
): Promise<string> {
  const verifier = randomVerifier();
  const state = randomVerifier();
  store.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: auth.client_id,
    redirect_uri: auth.redirect_uri,
    scope: auth.scopes,
    state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: "S256",
  });
  return `${auth.authorize_url}?${query}`;
}

/** The session for the code the hosted UI sent back, or an error naming why not. */
export async function finishCognitoSignIn(
  auth: CognitoAuth,
  query: URLSearchParams,
  store: Storage = sessionStorage,
  fetcher: typeof fetch = fetch,
): Promise<Session> {
  const saved = store.getItem(PKCE_KEY);
  store.removeItem(PKCE_KEY);
  if (query.get("error")) {
    throw new Error(`Sign-in was refused: ${query.get("error_description") ?? query.get("error")}.`);
  }
  const { verifier, state } = saved ? (JSON.parse(saved) as { verifier: string; state: string }) : { verifier: "", state: "" };
  if (!verifier || query.get("state") !== state) {
    throw new Error("This sign-in was not started here (its state does not match): sign in again.");
  }
  const answer = await fetcher(auth.token_url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: auth.client_id,
      code: query.get("code") ?? "",
      redirect_uri: auth.redirect_uri,
      code_verifier: verifier,
    }),
  });
  const body = (await answer.json().catch(() => null)) as Record<string, unknown> | null;
  if (!answer.ok || !body || typeof body.access_token !== "string") {
    throw new Error(`The sign-in could not be completed (${String(body?.error ?? answer.status)}).`);
  }
  const session = sessionOf(body.access_token);
  return typeof body.refresh_token === "string" ? { ...session, refreshToken: body.refresh_token } : session;
}

/** A new access token before the current one expires (an upload may outlast its hour). */
export async function refreshCognitoSession(
  auth: CognitoAuth,
  session: Session,
  fetcher: typeof fetch = fetch,
): Promise<Session> {
  if (!session.refreshToken) throw new Error("No refresh token: sign in again.");
  const answer = await fetcher(auth.token_url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "refresh_token", client_id: auth.client_id, refresh_token: session.refreshToken }),
  });
  const body = (await answer.json().catch(() => null)) as Record<string, unknown> | null;
  if (!answer.ok || !body || typeof body.access_token !== "string") {
    throw new Error(`The session could not be renewed (${String(body?.error ?? answer.status)}): sign in again.`);
  }
  return { ...sessionOf(body.access_token), refreshToken: session.refreshToken };
}

export function logoutUrl(auth: CognitoAuth): string {
  const query = new URLSearchParams({ client_id: auth.client_id, logout_uri: auth.redirect_uri });
  return `${auth.logout_url}?${query}`;
}
