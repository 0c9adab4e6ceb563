import { describe, expect, it } from "vitest";

import { Api, ApiError, filePath, queryString } from "../src/api";
import { parseConfig } from "../src/config";

function recording(answer: () => Response) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetcher = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return answer();
  }) as unknown as typeof fetch;
  return { calls, fetcher };
}

describe("calls to the API", () => {
  it("carry the bearer token, JSON bodies and encoded paths and queries", async () => {
    const { calls, fetcher } = recording(() => new Response(JSON.stringify({ items: [], next_cursor: null })));
    const api = new Api("https://api.example.com", () => "t-1", () => {}, fetcher);
    await api.search({ a: 1 }, 25, "c/1");
    await api.fileLink("a b", "dir/x y.bin", "v1");
    expect(calls[0].url).toBe("https://api.example.com/registry/query/search?limit=25&cursor=c%2F1");
    expect((calls[0].init.headers as Record<string, string>).Authorization).toBe("Bearer t-1");
    expect(calls[0].init.body).toBe('{"a":1}');
    expect(calls[1].url).toBe("https://api.example.com/registry/assets/a%20b/files/dir/x%20y.bin?version=v1&redirect=false");
    expect(filePath("a/../b")).toBe("a/../b".split("/").map(encodeURIComponent).join("/"));
    expect(queryString({ a: undefined, b: "", c: 0 })).toBe("?c=0");
  });

  it("turn the contract's error shape into the API's own message", async () => {
    const body = { success: false, error: { code: "ASSET_NOT_FOUND", message: "No asset has asset_id 'x'." } };
    const { fetcher } = recording(() => new Response(JSON.stringify(body), { status: 404 }));
    const error = await new Api("", () => null, () => {}, fetcher).asset("x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 404, code: "ASSET_NOT_FOUND", message: "No asset has asset_id 'x'." });
  });

  it("describe answers that are not the API's, and an unreachable service", async () => {
    const bad = recording(() => new Response("<html>Bad gateway</html>", { status: 502, statusText: "Bad Gateway" }));
    await expect(new Api("", () => null, () => {}, bad.fetcher).asset("x")).rejects.toThrow("The service answered HTTP 502 Bad Gateway.");
    const down = (async () => {
      throw new TypeError("Failed to fetch");
    }) as unknown as typeof fetch;
    await expect(new Api("", () => null, () => {}, down).asset("x")).rejects.toMatchObject({ code: "NETWORK" });
  });

  it("end the session when the token is refused", async () => {
    let ended = 0;
    const { fetcher } = recording(() => new Response(JSON.stringify({ success: false, error: { code: "UNAUTHENTICATED", message: "expired" } }), { status: 401 }));
    await expect(new Api("", () => "old", () => ended++, fetcher).asset("x")).rejects.toThrow("expired");
    expect(ended).toBe(1);
  });
});

describe("config.json", () => {
  it("names the API and the sign-in, and is refused clearly when broken", () => {
    expect(parseConfig({ api_url: "https://api/", auth: { kind: "local" } })).toEqual({ api_url: "https://api", auth: { kind: "local" } });
    expect(parseConfig({ api_url: "" }).auth.kind).toBe("none");
    expect(() => parseConfig({ auth: { kind: "cognito", client_id: "x" } })).toThrow(/authorize_url/);
    expect(() => parseConfig({ auth: { kind: "saml" } })).toThrow(/unknown sign-in kind/);
    expect(() => parseConfig("x")).toThrow(/not a JSON object/);
  });
});
