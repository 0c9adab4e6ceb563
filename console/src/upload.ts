// Uploads from the browser, as the contract's upload protocol has them: a bundle (a ZIP with
// asset.json at its root) goes straight to the object store, by one presigned request, or, when
// large or asked for, in parts of an upload session, each part's CRC32 declared and checked by
// the store. A session is remembered (ids only, never a token) so an interrupted upload of the
// same bundle resumes from the parts the store holds.

import { downloadZip } from "client-zip";
import * as CRC32 from "crc-32";

import { Api, ApiError, type Json } from "./api";

export const MIB = 1024 * 1024;
export const PARTS_THRESHOLD = 100 * MIB; // the service's MULTIPART_THRESHOLD_BYTES default
export const PARALLEL_PARTS = 3;
const ATTEMPTS = 4;
const RESUME_KEY = "assets-console.uploads";
// asset.json written by the console carries this date, so the same form gives the same bytes
// (and a bundle rebuilt for a resume matches the parts already sent).
const FIXED_DATE = new Date("2020-01-01T00:00:00Z");

export interface BundleFile {
  path: string; // inside the bundle, "/"-separated, no leading folder
  file: Blob;
  lastModified: number;
}

export interface Bundle {
  blob: Blob;
  name: string;
  fingerprint: string;
  // Where each file's bytes lie in the ZIP (approximately: headers are small), for per-file
  // progress as the upload passes them.
  ranges: { path: string; start: number; end: number }[];
}

export interface Progress {
  phase: "packing" | "uploading" | "completing" | "queued" | "processing" | "success" | "failed";
  sent: number;
  total: number;
  detail?: string;
}

export type OnProgress = (progress: Progress) => void;

// -- building the bundle ---------------------------------------------------------------------

/** A folder's files (paths relative to the folder the user picked; the folder's own name is
 * dropped), with asset.json: the folder's own, or the one given (the form's). */
export function folderFiles(files: { path: string; file: Blob; lastModified: number }[]): BundleFile[] {
  const split = files.map((f) => f.path.replace(/^\/+/, "").split("/"));
  const top = split.length > 0 && split.every((parts) => parts.length > 1 && parts[0] === split[0][0]) ? 1 : 0;
  return files
    .map((f, i) => ({ ...f, path: split[i].slice(top).join("/") }))
    .filter((f) => f.path && !f.path.split("/").some((p) => p === ".DS_Store" || p === "__MACOSX"));
}

export function assetJsonOf(files: BundleFile[]): BundleFile | undefined {
  return files.find((f) => f.path === "asset.json");
}

export async function fingerprintOf(parts: string[]): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("\n")));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("").slice(0, 32);
}

export async function zipBundle(name: string, files: BundleFile[], asset: Json | null): Promise<Bundle> {
  const entries = files.filter((f) => !(asset && f.path === "asset.json"));
  const assetText = asset ? JSON.stringify(asset, null, 2) : null;
  const inputs = [
    ...(assetText !== null
      ? [{ name: "asset.json", input: new Blob([assetText], { type: "application/json" }), lastModified: FIXED_DATE }]
      : []),
    ...entries.map((f) => ({ name: f.path, input: f.file, lastModified: new Date(f.lastModified) })),
  ];
  const ranges: Bundle["ranges"] = [];
  let offset = 0;
  for (const input of inputs) {
    const header = 30 + new TextEncoder().encode(input.name).length + 20;
    ranges.push({ path: input.name, start: offset + header, end: offset + header + input.input.size });
    offset += header + input.input.size + 16;
  }
  const blob = await downloadZip(inputs as Parameters<typeof downloadZip>[0]).blob();
  const fingerprint = await fingerprintOf([
    "folder",
    assetText ?? "",
    ...entries.map((f) => `${f.path}\t${f.file.size}\t${f.lastModified}`),
  ]);
  return { blob: new Blob([blob], { type: "application/zip" }), name, fingerprint, ranges };
}

export async function zipFileBundle(file: File): Promise<Bundle> {
  const fingerprint = await fingerprintOf(["zip", file.name, String(file.size), String(file.lastModified)]);
  return { blob: file, name: file.name, fingerprint, ranges: [] };
}

/** Each file's share of the upload so far, 0-100, from the bytes sent. */
export function fileProgress(bundle: Bundle, sent: number): Record<string, number> {
  const shares: Record<string, number> = {};
  for (const range of bundle.ranges) {
    const size = range.end - range.start;
    const done = Math.max(0, Math.min(size, sent - range.start));
    shares[range.path] = size === 0 ? (sent >= range.start ? 100 : 0) : Math.floor((done / size) * 100);
  }
  return shares;
}

// -- the transport (XMLHttpRequest: fetch reports no upload progress) ------------------------

export interface Sent {
  status: number;
  etag: string | null;
  text: string;
}

export type Transport = (
  method: string,
  url: string,
  body: Blob | FormData,
  headers: Record<string, string>,
  onSent: (bytes: number) => void,
  signal?: AbortSignal,
) => Promise<Sent>;

export const xhrTransport: Transport = (method, url, body, headers, onSent, signal) =>
  new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    // The browser sets Content-Length and Host itself (and refuses a page's own).
    for (const [name, value] of Object.entries(headers)) {
      if (!["content-length", "host"].includes(name.toLowerCase())) xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => onSent(event.loaded);
    xhr.onload = () => resolve({ status: xhr.status, etag: xhr.getResponseHeader("ETag"), text: xhr.responseText });
    xhr.onerror = () => reject(new ApiError(0, "NETWORK", "The object store could not be reached."));
    xhr.onabort = () => reject(new DOMException("The upload was stopped.", "AbortError"));
    signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(body);
  });

// -- remembered sessions ---------------------------------------------------------------------

export interface SavedUpload {
  owner?: string; // who started it: another user of the same browser never resumes it
  upload_id: string;
  session_url: string;
  fingerprint: string;
  name: string;
  size: number;
  started_at: string;
}

export function savedUploads(store: Storage = localStorage): SavedUpload[] {
  try {
    const list = JSON.parse(store.getItem(RESUME_KEY) ?? "[]") as SavedUpload[];
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

export function saveUpload(saved: SavedUpload, store: Storage = localStorage): void {
  const rest = savedUploads(store).filter((s) => s.fingerprint !== saved.fingerprint);
  store.setItem(RESUME_KEY, JSON.stringify([...rest, saved].slice(-20)));
}

export function forgetUpload(fingerprint: string, store: Storage = localStorage): void {
  store.setItem(RESUME_KEY, JSON.stringify(savedUploads(store).filter((s) => s.fingerprint !== fingerprint)));
}

export function resumable(fingerprint: string, size: number, owner?: string, store: Storage = localStorage): SavedUpload | undefined {
  return savedUploads(store).find((s) => s.fingerprint === fingerprint && s.size === size && (s.owner ?? "") === (owner ?? ""));
}

// -- sending -----------------------------------------------------------------------------------

export function crc32Hex(data: Uint8Array): string {
  return (CRC32.buf(data) >>> 0).toString(16).padStart(8, "0");
}

export function partSizeFor(size: number): number {
  const needed = Math.ceil(size / 9_000);
  return Math.max(8 * MIB, Math.ceil(needed / MIB) * MIB);
}

interface Ticket {
  upload_id: string;
  upload: Json;
}

interface SessionView {
  upload_id: string;
  status: string;
  size: number;
  part_size: number;
  part_count: number;
  session_url: string;
  parts_url: string;
  complete_url: string;
  received?: { part_number: number; etag: string; size: number; checksum: string }[];
}

export interface UploadOptions {
  inParts?: boolean; // default: past PARTS_THRESHOLD
  transport?: Transport;
  signal?: AbortSignal;
  store?: Storage;
  resume?: SavedUpload;
  owner?: string;
}

/** Send a bundle; the upload's id once the store holds every byte (ingest follows). */
export async function sendBundle(api: Api, bundle: Bundle, onProgress: OnProgress, options: UploadOptions = {}): Promise<string> {
  const transport = options.transport ?? xhrTransport;
  const size = bundle.blob.size;
  if (options.resume) {
    const resumed = await resumeParts(api, bundle, options.resume, onProgress, transport, options);
    if (resumed !== null) return resumed;
    // the session is gone (expired, aborted, or not this user's): a new upload instead
  }
  const inParts = options.inParts ?? size > PARTS_THRESHOLD;
  const request: Json = { filename: bundle.name.endsWith(".zip") ? bundle.name : `${bundle.name}.zip`, size };
  if (inParts) {
    request.multipart = true;
    request.part_size = partSizeFor(size);
  }
  const ticket = await api.post<Ticket>("/registry/zip/upload", request);
  const upload = ticket.upload;
  if (upload.method === "multipart") {
    const session = upload as unknown as SessionView;
    saveUpload(
      {
        owner: options.owner,
        upload_id: session.upload_id,
        session_url: session.session_url,
        fingerprint: bundle.fingerprint,
        name: bundle.name,
        size,
        started_at: new Date().toISOString(),
      },
      options.store,
    );
    await sendParts(api, bundle, session, new Map(), onProgress, transport, options);
    return ticket.upload_id;
  }
  onProgress({ phase: "uploading", sent: 0, total: size });
  let answer: Sent;
  if (upload.method === "POST") {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields as Record<string, string>)) form.append(name, value);
    form.append("file", bundle.blob, String(request.filename));
    answer = await transport("POST", String(upload.url), form, {}, (n) => onProgress({ phase: "uploading", sent: Math.min(n, size), total: size }), options.signal);
  } else {
    const headers = (upload.headers ?? {}) as Record<string, string>;
    answer = await transport("PUT", String(upload.url), bundle.blob, headers, (n) => onProgress({ phase: "uploading", sent: n, total: size }), options.signal);
  }
  if (answer.status >= 300) throw storeRefusal(answer);
  onProgress({ phase: "uploading", sent: size, total: size });
  return ticket.upload_id;
}

function storeRefusal(answer: Sent): ApiError {
  const code = /<Code>([^<]+)<\/Code>/.exec(answer.text)?.[1] ?? `HTTP_${answer.status}`;
  const message = /<Message>([^<]+)<\/Message>/.exec(answer.text)?.[1] ?? `HTTP ${answer.status}`;
  return new ApiError(answer.status, code, `The object store refused the upload: ${message}.`);
}

/** Go on with a remembered session: its id once every part is sent; null when the session
 * cannot go on (gone, expired, aborted, or not this caller's), so a new upload starts. */
async function resumeParts(
  api: Api,
  bundle: Bundle,
  saved: SavedUpload,
  onProgress: OnProgress,
  transport: Transport,
  options: UploadOptions,
): Promise<string | null> {
  let session: SessionView;
  try {
    session = await api.get<SessionView>(saved.session_url);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 403)) {
      forgetUpload(saved.fingerprint, options.store);
      return null;
    }
    throw error;
  }
  if (session.status !== "uploading") {
    forgetUpload(saved.fingerprint, options.store);
    if (session.status === "aborted" || session.status === "expired") return null;
    return saved.upload_id; // completed already: ingest follows
  }
  if (session.size !== bundle.blob.size) {
    forgetUpload(saved.fingerprint, options.store);
    return null;
  }
  const held = new Map<number, { etag: string; checksum: string }>();
  for (const part of session.received ?? []) {
    const [start, end] = partRange(session, part.part_number);
    const checksum = crc32Hex(new Uint8Array(await bundle.blob.slice(start, end).arrayBuffer()));
    if (checksum !== part.checksum) {
      forgetUpload(saved.fingerprint, options.store); // the next try starts over
      throw new ApiError(409, "BUNDLE_CHANGED", `Part ${part.part_number} differs from the part the store holds: the files changed since the upload started; upload again to start over.`);
    }
    held.set(part.part_number, { etag: part.etag, checksum: part.checksum });
  }
  await sendParts(api, bundle, session, held, onProgress, transport, options);
  return saved.upload_id;
}

function partRange(session: SessionView, number: number): [number, number] {
  const start = (number - 1) * session.part_size;
  return [start, Math.min(session.size, start + session.part_size)];
}

async function sendParts(
  api: Api,
  bundle: Bundle,
  session: SessionView,
  held: Map<number, { etag: string; checksum: string }>,
  onProgress: OnProgress,
  transport: Transport,
  options: UploadOptions,
): Promise<void> {
  const total = session.size;
  const inFlight = new Map<number, number>();
  let done = 0;
  for (const number of held.keys()) {
    const [start, end] = partRange(session, number);
    done += end - start;
  }
  const report = () => {
    let flying = 0;
    for (const n of inFlight.values()) flying += n;
    onProgress({ phase: "uploading", sent: Math.min(total, done + flying), total });
  };
  report();
  const pending: number[] = [];
  for (let n = 1; n <= session.part_count; n++) if (!held.has(n)) pending.push(n);
  const sent = new Map(held);

  // The first part that fails for good stops every worker (and the user's Stop stops them too).
  const stopping = new AbortController();
  const signal = stopping.signal;
  const stopAll = () => stopping.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", stopAll);
  if (options.signal?.aborted) stopAll();

  const sendOne = async (number: number) => {
    const [start, end] = partRange(session, number);
    const slice = bundle.blob.slice(start, end);
    const checksum = crc32Hex(new Uint8Array(await slice.arrayBuffer()));
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      const signed = await api.post<{ parts: { part_number: number; url: string; headers: Record<string, string> }[] }>(
        session.parts_url,
        { parts: [{ part_number: number, checksum }] },
      );
      const [part] = signed.parts;
      let answer: Sent | null = null;
      try {
        answer = await transport("PUT", part.url, slice, part.headers, (n) => {
          inFlight.set(number, n);
          report();
        }, signal);
      } catch (error) {
        if ((error as Error).name === "AbortError") throw error;
      }
      inFlight.delete(number);
      if (answer && answer.status < 300 && answer.etag) {
        sent.set(number, { etag: answer.etag, checksum });
        done += end - start;
        report();
        return;
      }
      if (answer && answer.status === 400 && answer.text.includes("BadDigest")) {
        throw new ApiError(400, "PART_REFUSED", `The object store refused part ${number}: its bytes are not the ones declared (did a file change while it was sent?).`);
      }
      if (answer && answer.status < 300 && !answer.etag) {
        throw new ApiError(502, "NO_ETAG", "The object store did not show the part's ETag (its CORS rule must expose ETag).");
      }
      if (attempt >= ATTEMPTS) {
        throw new ApiError(answer?.status ?? 0, "PART_NOT_SENT", `Part ${number} could not be sent after ${ATTEMPTS} tries: resume the upload.`);
      }
      await new Promise((r) => setTimeout(r, 400 * 2 ** attempt));
    }
  };

  const queue = [...pending];
  const workers = Array.from({ length: Math.min(PARALLEL_PARTS, queue.length) }, async () => {
    while (queue.length && !signal.aborted) {
      const number = queue.shift()!;
      try {
        await sendOne(number);
      } catch (error) {
        queue.length = 0;
        stopAll();
        throw error;
      }
    }
  });
  try {
    const settled = await Promise.allSettled(workers);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    // the first failure, not the aborts it caused in the other workers
    const cause = settled.find((s): s is PromiseRejectedResult => s.status === "rejected" && (s.reason as Error)?.name !== "AbortError");
    if (failed) throw (cause ?? failed).reason;
  } finally {
    options.signal?.removeEventListener("abort", stopAll);
  }
  signal.throwIfAborted();
  onProgress({ phase: "completing", sent: total, total });
  const parts = [...sent.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([part_number, p]) => ({ part_number, etag: p.etag, checksum: p.checksum }));
  await api.post(session.complete_url, { parts });
  forgetUpload(bundle.fingerprint, options.store);
}

/** Follow ingest until the upload succeeds or fails; its last status. */
export async function followIngest(
  api: Api,
  uploadId: string,
  onProgress: OnProgress,
  total: number,
  options: { interval?: number; timeout?: number; signal?: AbortSignal } = {},
): Promise<{ status: string; asset_id?: string; asset_version?: string }> {
  const deadline = Date.now() + (options.timeout ?? 30 * 60_000);
  for (;;) {
    options.signal?.throwIfAborted();
    const status = await api.uploadStatus(uploadId);
    const phase = status.status === "success" ? "success" : status.status.startsWith("failed") ? "failed" : status.status === "processing" ? "processing" : "queued";
    onProgress({ phase, sent: total, total, detail: status.status });
    if (phase === "success" || phase === "failed") return status;
    if (Date.now() > deadline) throw new ApiError(0, "INGEST_SLOW", "Ingest has not finished yet: its status stays on this page's link.");
    await new Promise((r) => setTimeout(r, options.interval ?? 1000));
  }
}
