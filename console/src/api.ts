// Calls to the services: the bearer token on every request, and every failure turned into an
// ApiError whose message is the API's own sentence (the contract's error shape).

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type Json = Record<string, unknown>;

type Query = Record<string, string | number | boolean | undefined | null>;

export function queryString(query: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** A path segment, encoded (asset ids, versions, URIs). */
export const seg = (value: string): string => encodeURIComponent(value);

/** A file path, each segment encoded and the slashes kept. */
export const filePath = (path: string): string => path.split("/").map(seg).join("/");

export async function errorOf(answer: Response): Promise<ApiError> {
  const text = await answer.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string }; message?: string };
    if (body.error?.message) {
      return new ApiError(answer.status, body.error.code ?? "ERROR", body.error.message);
    }
    if (typeof body.message === "string") return new ApiError(answer.status, "ERROR", body.message);
  } catch {
    // not JSON: described below
  }
  return new ApiError(answer.status, "HTTP_" + answer.status, `The service answered HTTP ${answer.status}${answer.statusText ? " " + answer.statusText : ""}.`);
}

export class Api {
  constructor(
    readonly base: string,
    private readonly token: () => string | null,
    private readonly onUnauthenticated: () => void = () => {},
    private readonly fetcher: typeof fetch = (...args) => fetch(...args),
  ) {}

  async request<T>(method: string, path: string, options: { body?: unknown; query?: Query } = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    const token = this.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    let answer: Response;
    try {
      answer = await this.fetcher(`${this.base}${path}${queryString(options.query)}`, { method, headers, body });
    } catch {
      throw new ApiError(0, "NETWORK", "The service could not be reached: check your connection and try again.");
    }
    if (!answer.ok) {
      const error = await errorOf(answer);
      if (answer.status === 401) this.onUnauthenticated();
      throw error;
    }
    const text = await answer.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  get = <T>(path: string, query?: Query) => this.request<T>("GET", path, { query });
  post = <T>(path: string, body?: unknown, query?: Query) => this.request<T>("POST", path, { body, query });
  put = <T>(path: string, body?: unknown) => this.request<T>("PUT", path, { body });
  del = <T>(path: string, query?: Query) => this.request<T>("DELETE", path, { query });

  // -- the Assets Registry -------------------------------------------------------------------
  search = (filter: Json, limit: number, cursor?: string | null) =>
    this.post<Page<Json>>("/registry/query/search", filter, { limit, cursor });
  facets = (filter: Json) => this.post<Facets>("/registry/query/facets", filter);
  asset = (id: string, version?: string) => this.get<Json>(`/registry/assets/${seg(id)}`, { version });
  versions = (id: string) => this.get<Page<VersionRow>>(`/registry/assets/${seg(id)}/versions`, { limit: 100 });
  files = (id: string, version?: string, cursor?: string | null) =>
    this.get<Page<FileRow>>(`/registry/assets/${seg(id)}/files`, { version, cursor, limit: 200 });
  lineage = (id: string, version: string | undefined, depth: number) =>
    this.get<LineageGraph>(`/registry/assets/${seg(id)}/lineage`, { version, direction: "both", depth });
  audit = (id: string) => this.get<Page<Json>>("/registry/audit", { resource: "asset", id, limit: 50 });
  fileLink = (id: string, path: string, version?: string) =>
    this.get<{ location: string }>(`/registry/assets/${seg(id)}/files/${filePath(path)}`, { version, redirect: "false" });
  zipLink = (id: string, version?: string) =>
    this.get<{ location?: string; status?: string }>(`/registry/zip/download/${seg(id)}`, { version, redirect: "false" });
  setAlias = (id: string, alias: string, version: string) =>
    this.put<Json>(`/registry/assets/${seg(id)}/aliases/${seg(alias)}`, { asset_version: version });
  deleteAlias = (id: string, alias: string) => this.del<Json>(`/registry/assets/${seg(id)}/aliases/${seg(alias)}`);
  addVersion = (id: string, document: Json) => this.post<Json>(`/registry/assets/${seg(id)}/versions`, document);
  addLineage = (id: string, version: string | undefined, edge: Json) =>
    this.post<Json>(`/registry/assets/${seg(id)}/lineage`, edge, { version });
  uploadStatus = (uploadId: string) => this.get<UploadStatus>(`/registry/zip/status/${seg(uploadId)}`);
}

export interface Facets {
  facets: Record<string, { value: unknown; count: number }[]>;
  paths: Record<string, string>;
}

export interface VersionRow {
  asset_version: string;
  created_at?: string;
  created_by?: string;
  file_count?: number;
  total_bytes?: number;
  aliases?: string[];
}

export interface FileRow {
  path: string;
  asset_file_id: string;
  size: number;
  sha256: string;
  mime_type?: string;
  last_modified?: string;
}

export interface LineageGraph {
  nodes: { asset_id: string; asset_version: string; asset_type?: string | null }[];
  edges: { from: string; to: string; relation: string }[];
}

export interface UploadStatus {
  upload_id: string;
  status: string;
  asset_id?: string;
  asset_version?: string;
}
