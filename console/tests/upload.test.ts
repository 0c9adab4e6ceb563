import { describe, expect, it } from "vitest";

import { Api } from "../src/api";
import { assetFromForm, emptyForm, nextVersionOf } from "../src/asset";
import {
  crc32Hex,
  fileProgress,
  folderFiles,
  MIB,
  partSizeFor,
  resumable,
  saveUpload,
  sendBundle,
  zipBundle,
  type Bundle,
  type Sent,
  type Transport,
} from "../src/upload";
import { MemoryStorage } from "./memory";

const file = (text: string) => new Blob([text]);

function bundleOf(size: number): Bundle {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7919) & 0xff;
  return { blob: new Blob([bytes]), name: "big", fingerprint: "fp-1", ranges: [] };
}

/** The API as the upload talks to it: answers by method and path, every call recorded. */
function fakeApi(routes: Record<string, (body: unknown) => unknown>) {
  const calls: { key: string; body: unknown }[] = [];
  const fetcher = (async (url: string, init: RequestInit) => {
    const key = `${init.method} ${new URL(url, "http://x").pathname}`;
    const body = init.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ key, body });
    const route = routes[key];
    if (!route) return new Response(JSON.stringify({ success: false, error: { code: "NO", message: `no ${key}` } }), { status: 404 });
    return new Response(JSON.stringify(route(body)), { status: 200 });
  }) as unknown as typeof fetch;
  return { api: new Api("", () => "t", () => {}, fetcher), calls };
}

function session(size: number, partSize: number) {
  return {
    method: "multipart",
    upload_id: "u-1",
    status: "uploading",
    size,
    part_size: partSize,
    part_count: Math.ceil(size / partSize),
    session_url: "/registry/uploads/u-1",
    parts_url: "/registry/uploads/u-1/parts",
    complete_url: "/registry/uploads/u-1/complete",
  };
}

function storeTransport(answer?: (url: string, body: Blob | FormData) => Sent | null) {
  const sent: { method: string; url: string; body: Blob | FormData; headers: Record<string, string> }[] = [];
  const transport: Transport = async (method, url, body, headers, onSent) => {
    sent.push({ method, url, body, headers });
    onSent(body instanceof Blob ? body.size : 1);
    return answer?.(url, body) ?? { status: 200, etag: `"etag-${url}"`, text: "" };
  };
  return { sent, transport };
}

const signing = (body: unknown) => ({
  upload_id: "u-1",
  parts: (body as { parts: { part_number: number }[] }).parts.map((p) => ({ part_number: p.part_number, url: `s3://part/${p.part_number}`, headers: { "x-amz-checksum-crc32": "x" } })),
});

describe("bundles", () => {
  it("drop the chosen folder's own name and the OS's litter", () => {
    const files = folderFiles([
      { path: "model/weights.bin", file: file("w"), lastModified: 1 },
      { path: "model/config/a.json", file: file("{}"), lastModified: 1 },
      { path: "model/.DS_Store", file: file(""), lastModified: 1 },
    ]);
    expect(files.map((f) => f.path)).toEqual(["weights.bin", "config/a.json"]);
    expect(folderFiles([{ path: "one.txt", file: file("1"), lastModified: 1 }])[0].path).toBe("one.txt");
  });

  it("are the same bytes and fingerprint each time (a resume rebuilds them), asset.json first", async () => {
    const files = [{ path: "weights.bin", file: file("weights"), lastModified: 1_700_000_000_000 }];
    const asset = assetFromForm({ ...emptyForm(), asset_id: "m-1", asset_type: "model", tags: "a, b, a" });
    const one = await zipBundle("m", files, asset);
    const two = await zipBundle("m", files, asset);
    const bytes = new Uint8Array(await one.blob.arrayBuffer());
    expect(bytes).toEqual(new Uint8Array(await two.blob.arrayBuffer()));
    expect(one.fingerprint).toBe(two.fingerprint);
    expect([...bytes.slice(0, 4)]).toEqual([0x50, 0x4b, 0x03, 0x04]);
    const text = new TextDecoder().decode(bytes);
    expect(text).toContain('"asset_id": "m-1"');
    expect(text).toContain("weights");
    expect(one.ranges.map((r) => r.path)).toEqual(["asset.json", "weights.bin"]);
    const other = await zipBundle("m", files, { ...asset, asset_version: "v9" });
    expect(other.fingerprint).not.toBe(one.fingerprint);
    const halfway = fileProgress(one, one.ranges[1].start + 3);
    expect(halfway["asset.json"]).toBe(100);
    expect(halfway["weights.bin"]).toBe(42);
  });

  it("written from the form carry one profile, and a new version keeps metadata but no stored files", () => {
    const asset = assetFromForm({ ...emptyForm(), asset_id: "m-1", asset_version: "v1", asset_type: "model", asset_sub_type: "", tags: "x, y", description: "d", visibility: "public" });
    expect(asset).toMatchObject({ asset_id: "m-1", asset_version: "v1", visibility: "public", asset_brief_description: "d" });
    expect((asset.profiles as Record<string, unknown>[])[0]).toMatchObject({ asset_type: "model", asset_sub_type: "model", asset_tags: ["x", "y"] });
    const current = {
      ...asset,
      created_by: "alice",
      updated_at: "2026-01-01",
      asset_container_registry_creds_config: { redacted: true },
      files: [
        { asset_file_id: "w.bin", asset_file_url: "s3://bucket/assets/x", asset_file_metadata: { sha256: "ab" } },
        { asset_file_id: "doc", asset_file_url: "https://example.com/doc" },
      ],
    };
    const next = nextVersionOf(current, "v2");
    expect(next).not.toHaveProperty("created_by");
    expect(next).not.toHaveProperty("asset_container_registry_creds_config");
    expect(next.asset_file_ids).toEqual(["doc"]);
    expect(next.asset_version).toBe("v2");
  });
});

describe("uploads", () => {
  it("check parts with CRC32 (the store's own checksum) and stay within S3's 10,000 parts", () => {
    expect(crc32Hex(new TextEncoder().encode("123456789"))).toBe("cbf43926");
    expect(partSizeFor(1)).toBe(8 * MIB);
    expect(Math.ceil((5 * 1024 ** 4) / partSizeFor(5 * 1024 ** 4))).toBeLessThanOrEqual(10_000);
  });

  it("send a small bundle by one presigned POST, its fields first and the file last", async () => {
    const { api, calls } = fakeApi({
      "POST /registry/zip/upload": () => ({ upload_id: "u-9", upload: { method: "POST", url: "s3://bucket", fields: { key: "incoming/u-9.zip", policy: "p" } } }),
    });
    const { sent, transport } = storeTransport(() => ({ status: 204, etag: null, text: "" }));
    const id = await sendBundle(api, bundleOf(1000), () => {}, { transport, store: new MemoryStorage() });
    expect(id).toBe("u-9");
    expect(calls[0].body).toEqual({ filename: "big.zip", size: 1000 });
    const form = sent[0].body as FormData;
    expect([...form.keys()]).toEqual(["key", "policy", "file"]);
  });

  it("say what the store refused", async () => {
    const { api } = fakeApi({
      "POST /registry/zip/upload": () => ({ upload_id: "u-9", upload: { method: "POST", url: "s3://bucket", fields: {} } }),
    });
    const { transport } = storeTransport(() => ({ status: 400, etag: null, text: "<Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed size</Message></Error>" }));
    await expect(sendBundle(api, bundleOf(10), () => {}, { transport, store: new MemoryStorage() })).rejects.toThrow("exceeds the maximum allowed size");
  });

  it("in parts: every part signed for its CRC32, sent, then completed in order; the session remembered until then", async () => {
    const size = 12 * MIB + 5;
    const store = new MemoryStorage();
    const bundle = bundleOf(size);
    const partSize = 5 * MIB;
    let remembered = false;
    const { api, calls } = fakeApi({
      "POST /registry/zip/upload": (body) => {
        expect(body).toMatchObject({ multipart: true, size });
        return { upload_id: "u-1", upload: session(size, partSize) };
      },
      "POST /registry/uploads/u-1/parts": signing,
      "POST /registry/uploads/u-1/complete": () => {
        remembered = resumable("fp-1", size, undefined, store) !== undefined;
        return { status: "queued" };
      },
    });
    const { sent, transport } = storeTransport();
    const seen: number[] = [];
    await sendBundle(api, bundle, (p) => seen.push(p.sent), { inParts: true, transport, store });
    expect(sent.map((s) => s.url).sort()).toEqual(["s3://part/1", "s3://part/2", "s3://part/3"]);
    const complete = calls.find((c) => c.key.endsWith("/complete"))!.body as { parts: { part_number: number; checksum: string; etag: string }[] };
    expect(complete.parts.map((p) => p.part_number)).toEqual([1, 2, 3]);
    const first = new Uint8Array(await bundle.blob.slice(0, partSize).arrayBuffer());
    expect(complete.parts[0].checksum).toBe(crc32Hex(first));
    expect(complete.parts[0].etag).toBe('"etag-s3://part/1"');
    const signed = calls.filter((c) => c.key.endsWith("/parts")).map((c) => (c.body as { parts: { checksum: string }[] }).parts[0].checksum);
    expect(signed).toContain(crc32Hex(first));
    expect(remembered).toBe(true);
    expect(resumable("fp-1", size, undefined, store)).toBeUndefined(); // forgotten once completed
    expect(Math.max(...seen)).toBe(size);
  });

  it("resume from the parts the store holds, after checking they are this bundle's", async () => {
    const size = 12 * MIB;
    const partSize = 5 * MIB;
    const bundle = bundleOf(size);
    const first = crc32Hex(new Uint8Array(await bundle.blob.slice(0, partSize).arrayBuffer()));
    const store = new MemoryStorage();
    saveUpload({ upload_id: "u-1", session_url: "/registry/uploads/u-1", fingerprint: "fp-1", name: "big", size, started_at: "2026-12-01T00:00:00Z" }, store);
    const held = (checksum: string) => ({ ...session(size, partSize), received: [{ part_number: 1, etag: '"e1"', size: partSize, checksum }] });
    const { api, calls } = fakeApi({
      "GET /registry/uploads/u-1": () => held(first),
      "POST /registry/uploads/u-1/parts": signing,
      "POST /registry/uploads/u-1/complete": () => ({ status: "queued" }),
    });
    const { sent, transport } = storeTransport();
    const resume = resumable("fp-1", size, undefined, store)!;
    expect(await sendBundle(api, bundle, () => {}, { transport, store, resume })).toBe("u-1");
    expect(sent.map((s) => s.url).sort()).toEqual(["s3://part/2", "s3://part/3"]); // part 1 is not sent again
    const complete = calls.find((c) => c.key.endsWith("/complete"))!.body as { parts: { etag: string }[] };
    expect(complete.parts[0].etag).toBe('"e1"');

    const changed = fakeApi({ "GET /registry/uploads/u-1": () => held("00000000") });
    const again = storeTransport();
    saveUpload(resume, store);
    await expect(sendBundle(changed.api, bundle, () => {}, { transport: again.transport, store, resume })).rejects.toThrow(/files changed/);
    expect(again.sent).toHaveLength(0);
    expect(resumable("fp-1", size, undefined, store)).toBeUndefined(); // the next try starts over
  });

  it("start a new upload when the remembered session is gone, and never resume another user's", async () => {
    const size = 6 * MIB;
    const store = new MemoryStorage();
    const saved = { owner: "alice", upload_id: "old", session_url: "/registry/uploads/old", fingerprint: "fp-1", name: "big", size, started_at: "2026-12-01T00:00:00Z" };
    saveUpload(saved, store);
    expect(resumable("fp-1", size, "bob", store)).toBeUndefined();
    expect(resumable("fp-1", size, "alice", store)).toBeDefined();
    const { api, calls } = fakeApi({
      // GET /registry/uploads/old: not routed, a 404 (expired, or not this caller's)
      "POST /registry/zip/upload": () => ({ upload_id: "u-1", upload: session(size, 5 * MIB) }),
      "POST /registry/uploads/u-1/parts": signing,
      "POST /registry/uploads/u-1/complete": () => ({ status: "queued" }),
    });
    const { sent, transport } = storeTransport();
    expect(await sendBundle(api, bundleOf(size), () => {}, { inParts: true, transport, store, resume: saved, owner: "alice" })).toBe("u-1");
    expect(calls[0].key).toBe("GET /registry/uploads/old");
    expect(sent).toHaveLength(2);
    expect(resumable("fp-1", size, "alice", store)).toBeUndefined();
  });

  it("stop every part once one fails for good, and when the user stops", async () => {
    const size = 40 * MIB; // 8 parts
    const routes = {
      "POST /registry/zip/upload": () => ({ upload_id: "u-1", upload: session(size, 5 * MIB) }),
      "POST /registry/uploads/u-1/parts": signing,
    };
    const refused = storeTransport((url) => (url.endsWith("/1") ? { status: 400, etag: null, text: "<Code>BadDigest</Code>" } : null));
    await expect(sendBundle(fakeApi(routes).api, bundleOf(size), () => {}, { inParts: true, transport: refused.transport, store: new MemoryStorage() })).rejects.toThrow(/part 1/);
    expect(refused.sent.length).toBeLessThan(8); // the queue was dropped, not drained
    const user = new AbortController();
    const stopping = storeTransport((url) => {
      if (url.endsWith("/2")) user.abort();
      return null;
    });
    await expect(sendBundle(fakeApi(routes).api, bundleOf(size), () => {}, { inParts: true, transport: stopping.transport, store: new MemoryStorage(), signal: user.signal })).rejects.toMatchObject({ name: "AbortError" });
    expect(stopping.sent.length).toBeLessThan(8);
  });

  it("stop on a part the store refuses for its bytes, and when the store hides the ETag", async () => {
    const size = 6 * MIB;
    const routes = {
      "POST /registry/zip/upload": () => ({ upload_id: "u-1", upload: session(size, 5 * MIB) }),
      "POST /registry/uploads/u-1/parts": signing,
    };
    const refused = storeTransport(() => ({ status: 400, etag: null, text: "<Code>BadDigest</Code>" }));
    await expect(sendBundle(fakeApi(routes).api, bundleOf(size), () => {}, { inParts: true, transport: refused.transport, store: new MemoryStorage() })).rejects.toThrow(/not the ones declared/);
    const hidden = storeTransport(() => ({ status: 200, etag: null, text: "" }));
    await expect(sendBundle(fakeApi(routes).api, bundleOf(size), () => {}, { inParts: true, transport: hidden.transport, store: new MemoryStorage() })).rejects.toThrow(/must expose ETag/);
  });
});
