import { describe, expect, it } from "vitest";

import { authorizeUrl, challengeOf, finishCognitoSignIn, forgetSession, localSignIn, logoutUrl, refreshCognitoSession, restoreSession, rolesOf, saveSession, sessionOf } from "../src/auth";
import type { CognitoAuth } from "../src/config";
import { jwt, MemoryStorage } from "./memory";

const COGNITO: CognitoAuth = {
  kind: "cognito",
  authorize_url: "https://auth.example.com/oauth2/authorize",
  token_url: "https://auth.example.com/oauth2/token",
  logout_url: "https://auth.example.com/logout",
  client_id: "client-1",
  redirect_uri: "https://console.example.com/console/",
  scopes: "openid email profile",
};

describe("roles", () => {
  it("come from cognito:groups or the scope claim, writers reading and admins writing", () => {
    expect(rolesOf({ "cognito:groups": ["assets-admin"] })).toEqual(["assets-reader", "assets-writer", "assets-admin"]);
    expect(rolesOf({ scope: "openid assets/assets-writer" })).toEqual(["assets-reader", "assets-writer"]);
    expect(rolesOf({ scope: "assets-reader" })).toEqual(["assets-reader"]);
    expect(rolesOf({ "cognito:groups": ["other"] })).toEqual([]);
  });

  it("and the user's name and expiry are read from the token", () => {
    const session = sessionOf(jwt({ sub: "u-1", username: "alice", exp: 2_000_000_000, "cognito:groups": ["assets-writer"] }));
    expect(session).toMatchObject({ sub: "alice", roles: ["assets-reader", "assets-writer"], expiresAt: 2_000_000_000_000 });
    expect(() => sessionOf("not-a-token")).toThrow(/not a JWT/);
  });
});

describe("the session", () => {
  it("is kept in the given (session-scoped) store until it expires or the user signs out", () => {
    const store = new MemoryStorage();
    const session = sessionOf(jwt({ sub: "bob", exp: 2_000_000_000 }));
    saveSession(session, store);
    expect(restoreSession(store, 1_000)).toEqual(session);
    expect(restoreSession(store, 2_000_000_000_001)).toBeNull(); // expired: forgotten
    expect(store.length).toBe(0);
    saveSession(session, store);
    forgetSession(store);
    expect(restoreSession(store)).toBeNull();
    store.setItem("assets-console.session", "{broken");
    expect(restoreSession(store)).toBeNull();
  });
});

describe("PKCE with Cognito's hosted UI", () => {
  it("derives the challenge as RFC 7636 does (its appendix B)", async () => {
    expect(await challengeOf("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  });

  it("sends the user to the authorize endpoint with an S256 challenge and a state", async () => {
    const store = new MemoryStorage();
    const url = new URL(await authorizeUrl(COGNITO, store));
    expect(url.origin + url.pathname).toBe(COGNITO.authorize_url);
    const q = url.searchParams;
    expect([q.get("response_type"), q.get("client_id"), q.get("code_challenge_method"), q.get("redirect_uri")]).toEqual(["code", "client-1", "S256", COGNITO.redirect_uri]);
    const saved = JSON.parse(store.getItem("assets-console.pkce")!);
    expect(q.get("state")).toBe(saved.state);
    expect(q.get("code_challenge")).toBe(await challengeOf(saved.verifier));
  });

  it("exchanges the code with the verifier, once, and only for the state it sent", async () => {
    const store = new MemoryStorage();
    const url = new URL(await authorizeUrl(COGNITO, store));
    const { verifier, state } = JSON.parse(store.getItem("assets-console.pkce")!);
    const sent: URLSearchParams[] = [];
    const token = jwt({ sub: "carol", exp: 2_000_000_000, "cognito:groups": ["assets-reader"] });
    const fetcher = (async (_url: string, init: RequestInit) => {
      sent.push(new URLSearchParams(String(init.body)));
      return new Response(JSON.stringify({ access_token: token, token_type: "Bearer" }), { status: 200 });
    }) as unknown as typeof fetch;
    const session = await finishCognitoSignIn(COGNITO, new URLSearchParams({ code: "c-1", state }), store, fetcher);
    expect(session.sub).toBe("carol");
    expect(Object.fromEntries(sent[0])).toEqual({
      grant_type: "authorization_code",
      client_id: "client-1",
      code: "c-1",
      redirect_uri: COGNITO.redirect_uri,
      code_verifier: verifier,
    });
    // the verifier is gone: the same answer cannot be replayed
    await expect(finishCognitoSignIn(COGNITO, new URLSearchParams({ code: "c-1", state }), store, fetcher)).rejects.toThrow(/not started here/);
    expect(url.searchParams.get("state")).toBe(state);
  });

  it("refuses a forged state and shows the provider's refusal", async () => {
    const store = new MemoryStorage();
    await authorizeUrl(COGNITO, store);
    const never = (async () => {
      throw new Error("must not be called");
    }) as unknown as typeof fetch;
    await expect(finishCognitoSignIn(COGNITO, new URLSearchParams({ code: "c", state: "forged" }), store, never)).rejects.toThrow(/state does not match/);
    await expect(finishCognitoSignIn(COGNITO, new URLSearchParams({ error: "access_denied", error_description: "User is disabled" }), store, never)).rejects.toThrow(/User is disabled/);
  });

  it("signs out at Cognito's logout endpoint, back to the console", () => {
    const url = new URL(logoutUrl(COGNITO));
    expect(url.searchParams.get("logout_uri")).toBe(COGNITO.redirect_uri);
    expect(url.searchParams.get("client_id")).toBe("client-1");
  });
});

describe("the local stack's sign-in", () => {
  it("asks the token route for the chosen role, and says why when refused", async () => {
    const token = jwt({ sub: "dave", exp: 2_000_000_000, scope: "assets-writer" });
    const ok = (async (_u: string, init: RequestInit) => {
      expect(JSON.parse(String(init.body))).toMatchObject({ sub: "dave", roles: ["assets-writer"] });
      return new Response(JSON.stringify({ access_token: token }), { status: 200 });
    }) as unknown as typeof fetch;
    expect((await localSignIn("", "dave", "assets-writer", ok)).roles).toContain("assets-writer");
    const refused = (async () =>
      new Response(JSON.stringify({ success: false, error: { code: "INVALID_INPUT", message: "sub is too long." } }), { status: 400 })) as unknown as typeof fetch;
    await expect(localSignIn("", "x", "assets-reader", refused)).rejects.toThrow("sub is too long.");
  });
});

describe("renewing a Cognito session", () => {
  it("trades the refresh token (kept in memory, never stored) for a new access token", async () => {
    const store = new MemoryStorage();
    const first = { ...sessionOf(jwt({ sub: "erin", exp: 1_000 })), refreshToken: "r-1" };
    saveSession(first, store);
    expect(store.getItem("assets-console.session")).not.toContain("r-1");
    const sent: URLSearchParams[] = [];
    const fetcher = (async (_u: string, init: RequestInit) => {
      sent.push(new URLSearchParams(String(init.body)));
      return new Response(JSON.stringify({ access_token: jwt({ sub: "erin", exp: 2_000_000_000 }) }), { status: 200 });
    }) as unknown as typeof fetch;
    const renewed = await refreshCognitoSession(COGNITO, first, fetcher);
    expect(renewed.expiresAt).toBe(2_000_000_000_000);
    expect(renewed.refreshToken).toBe("r-1");
    expect(Object.fromEntries(sent[0])).toEqual({ grant_type: "refresh_token", client_id: "client-1", refresh_token: "r-1" });
    const refused = (async () => new Response(JSON.stringify({ error: "invalid_grant" }), { status: 400 })) as unknown as typeof fetch;
    await expect(refreshCognitoSession(COGNITO, first, refused)).rejects.toThrow(/invalid_grant/);
  });
});
