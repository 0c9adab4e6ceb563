// Hash routes (#/assets/x?version=v1): the app is static files, so any host serves it with
// no rewrite rules, and a route can be bookmarked.

export interface Route {
  page: "search" | "asset" | "upload" | "assetdb" | "dbregistry" | "components" | "not-found";
  params: Record<string, string>;
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#/, "") || "/";
  const [path, search = ""] = text.split("?", 2);
  const query = new URLSearchParams(search);
  const parts = path.split("/").filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  if (parts.length === 0) return { page: "search", params: {}, query };
  if (parts[0] === "assets" && parts.length === 2) return { page: "asset", params: { id: parts[1] }, query };
  if (parts.length === 1 && ["upload", "assetdb", "dbregistry", "components"].includes(parts[0])) {
    return { page: parts[0] as Route["page"], params: {}, query };
  }
  return { page: "not-found", params: {}, query };
}

export function href(path: string, query?: URLSearchParams | Record<string, string>): string {
  const params = query instanceof URLSearchParams ? query : new URLSearchParams(query ?? {});
  const text = params.toString();
  return `#${path}${text ? "?" + text : ""}`;
}

export const assetHref = (id: string, version?: string) =>
  href(`/assets/${encodeURIComponent(id)}`, version ? { version } : undefined);
