import { useRef, useState, type DragEvent } from "react";

import { hasRole, useConsole } from "../App";
import type { Json } from "../api";
import { assetFromForm, emptyForm, ID_PATTERN, type AssetForm } from "../asset";
import { bytes, percent } from "../format";
import { assetHref } from "../router";
import { ErrorBanner, messageOf, ProgressBar } from "../ui";
import {
  assetJsonOf,
  fileProgress,
  folderFiles,
  followIngest,
  PARTS_THRESHOLD,
  resumable,
  sendBundle,
  zipBundle,
  zipFileBundle,
  type Bundle,
  type BundleFile,
  type Progress,
} from "../upload";

type Chosen = { kind: "folder"; name: string; files: BundleFile[] } | { kind: "zip"; file: File };

interface DirectoryEntry {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  fullPath: string;
  file?: (ok: (f: File) => void, fail: (e: unknown) => void) => void;
  createReader?: () => { readEntries: (ok: (entries: DirectoryEntry[]) => void, fail: (e: unknown) => void) => void };
}

/** Every file under a dropped folder (readEntries answers in batches until an empty one). */
async function filesUnder(entry: DirectoryEntry): Promise<{ path: string; file: File; lastModified: number }[]> {
  if (entry.isFile && entry.file) {
    const file = await new Promise<File>((ok, fail) => entry.file!(ok, fail));
    return [{ path: entry.fullPath.replace(/^\//, ""), file, lastModified: file.lastModified }];
  }
  if (!entry.isDirectory || !entry.createReader) return [];
  const reader = entry.createReader();
  const found: { path: string; file: File; lastModified: number }[] = [];
  for (;;) {
    const batch = await new Promise<DirectoryEntry[]>((ok, fail) => reader.readEntries(ok, fail));
    if (batch.length === 0) return found;
    for (const child of batch) found.push(...(await filesUnder(child)));
  }
}

const PHASES: Record<Progress["phase"], string> = {
  packing: "Packing the bundle",
  uploading: "Uploading",
  completing: "Completing the upload",
  queued: "Uploaded: waiting for ingest",
  processing: "Ingesting",
  success: "Ingested",
  failed: "Ingest failed",
};

export function UploadPage({ forAsset }: { forAsset?: string }) {
  const { api, session } = useConsole();
  const [chosen, setChosen] = useState<Chosen | null>(null);
  const [folderAsset, setFolderAsset] = useState<Json | null>(null);
  const [useForm, setUseForm] = useState(true);
  const [form, setForm] = useState<AssetForm>(() => emptyForm(forAsset));
  const [inParts, setInParts] = useState<boolean | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [bundle, setBundle] = useState<Bundle | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState("");
  const [result, setResult] = useState<{ status: string; asset_id?: string; asset_version?: string; upload_id: string } | null>(null);
  const [dragging, setDragging] = useState(false);
  const stopper = useRef<AbortController | null>(null);
  const busy = progress !== null && !["success", "failed"].includes(progress.phase) && !error;

  if (!hasRole(session, "assets-writer")) {
    return (
      <>
        <h1>Upload</h1>
        <p role="alert" className="error">
          Uploading needs the assets-writer role; you are signed in as {session.sub} ({session.roles.join(", ") || "no role"}).
        </p>
      </>
    );
  }

  const choose = async (next: Chosen) => {
    setChosen(next);
    setProgress(null);
    setResult(null);
    setError(null);
    setNote("");
    setBundle(null);
    setFolderAsset(null);
    setUseForm(true);
    if (next.kind === "folder") {
      const own = assetJsonOf(next.files);
      if (own) {
        try {
          setFolderAsset(JSON.parse(await own.file.text()) as Json);
          setUseForm(false);
        } catch (e) {
          setError(new Error(`The folder's asset.json is not valid JSON (${messageOf(e)}): describe the asset with the form instead.`));
        }
      }
    } else {
      setUseForm(false);
    }
  };

  const onFolder = (list: FileList | null) => {
    if (!list || list.length === 0) return;
    const files = [...list].map((f) => ({ path: f.webkitRelativePath || f.name, file: f as Blob, lastModified: f.lastModified }));
    const top = (list[0].webkitRelativePath || list[0].name).split("/")[0];
    void choose({ kind: "folder", name: top, files: folderFiles(files) });
  };

  const onDrop = async (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const items = [...event.dataTransfer.items];
    const entries = items.map((i) => (i as unknown as { webkitGetAsEntry: () => DirectoryEntry | null }).webkitGetAsEntry()).filter(Boolean) as DirectoryEntry[];
    const dropped = [...event.dataTransfer.files];
    const zipOnly = entries.length === 0 || (entries.length === 1 && entries[0].isFile);
    if (zipOnly && dropped.length === 1 && dropped[0].name.toLowerCase().endsWith(".zip")) {
      void choose({ kind: "zip", file: dropped[0] });
      return;
    }
    const found = (await Promise.all(entries.map(filesUnder))).flat();
    if (found.length === 0) {
      setError(new Error("Nothing to upload was dropped: drop a folder or a ZIP."));
      return;
    }
    const name = entries.length === 1 && entries[0].isDirectory ? entries[0].name : "bundle";
    void choose({ kind: "folder", name, files: folderFiles(found) });
  };

  const estimated = chosen ? (chosen.kind === "zip" ? chosen.file.size : chosen.files.reduce((s, f) => s + f.file.size, 0)) : 0;
  const parts = inParts ?? estimated > PARTS_THRESHOLD;

  const upload = async () => {
    if (!chosen) return;
    setError(null);
    setResult(null);
    setNote("");
    const controller = new AbortController();
    stopper.current = controller;
    try {
      setProgress({ phase: "packing", sent: 0, total: estimated });
      const built =
        chosen.kind === "zip" ? await zipFileBundle(chosen.file) : await zipBundle(chosen.name, chosen.files, useForm ? assetFromForm(form) : null);
      setBundle(built);
      const earlier = resumable(built.fingerprint, built.blob.size, session.sub);
      if (earlier) setNote(`Resuming the upload of this bundle started ${new Date(earlier.started_at).toLocaleString()}.`);
      const uploadId = await sendBundle(api, built, setProgress, { inParts: parts, resume: earlier, signal: controller.signal, owner: session.sub });
      const status = await followIngest(api, uploadId, setProgress, built.blob.size, { signal: controller.signal });
      setResult({ ...status, upload_id: uploadId });
    } catch (e) {
      if ((e as Error).name === "AbortError") {
        setNote(parts ? "Stopped. Choose the same files and upload again to resume from the parts already sent." : "Stopped.");
        setProgress(null);
      } else {
        setError(e);
      }
    } finally {
      stopper.current = null;
    }
  };

  const set = (field: keyof AssetForm) => (e: { target: { value: string } }) => setForm({ ...form, [field]: e.target.value });
  const shares = bundle && progress ? fileProgress(bundle, progress.phase === "uploading" ? progress.sent : progress.phase === "packing" ? 0 : bundle.blob.size) : {};
  const listed = chosen?.kind === "folder" ? chosen.files : [];

  return (
    <>
      <h1>Upload {forAsset ? `a new version of ${forAsset}` : "an asset"}</h1>
      <p>
        A bundle is a folder or a ZIP with <code>asset.json</code> (the asset's document) at its root; every other file becomes one of the asset's
        files. Without an <code>asset.json</code>, describe the asset below.
      </p>
      <div
        className={dragging ? "dropzone dragging" : "dropzone"}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        aria-describedby="drop-hint"
      >
        <p id="drop-hint">Drag a folder or a ZIP here, or choose one:</p>
        <input id="pick-folder" className="visually-hidden" type="file" multiple {...{ webkitdirectory: "" }} onChange={(e) => onFolder(e.target.files)} disabled={busy} />
        <label className="button" htmlFor="pick-folder">
          Choose a folder
        </label>
        <input
          id="pick-zip"
          className="visually-hidden"
          type="file"
          accept=".zip,application/zip"
          onChange={(e) => e.target.files?.[0] && void choose({ kind: "zip", file: e.target.files[0] })}
          disabled={busy}
        />
        <label className="button" htmlFor="pick-zip">
          Choose a ZIP
        </label>
      </div>

      {chosen && (
        <section className="card" aria-labelledby="chosen-title">
          <h2 id="chosen-title">{chosen.kind === "zip" ? `ZIP: ${chosen.file.name}` : `Folder: ${chosen.name}`}</h2>
          <p>
            {chosen.kind === "zip" ? bytes(chosen.file.size) : `${listed.length} files, ${bytes(estimated)}`}
            {chosen.kind === "zip" && " — its asset.json describes the asset."}
          </p>
          {listed.length > 0 && (
            <table className="table">
              <caption className="visually-hidden">Files in the bundle</caption>
              <thead>
                <tr>
                  <th scope="col">File</th>
                  <th scope="col">Size</th>
                  <th scope="col">Sent</th>
                </tr>
              </thead>
              <tbody>
                {listed.slice(0, 500).map((f) => (
                  <tr key={f.path}>
                    <td className="path">{f.path}</td>
                    <td>{bytes(f.file.size)}</td>
                    <td>
                      <ProgressBar value={shares[f.path] ?? 0} label={`${f.path} sent`} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {listed.length > 500 && <p className="hint">…and {listed.length - 500} more files.</p>}
        </section>
      )}

      {chosen?.kind === "folder" && folderAsset && (
        <section className="card" aria-labelledby="own-asset-title">
          <h2 id="own-asset-title">The folder's asset.json</h2>
          <p>
            Asset <strong>{String(folderAsset.asset_id)}</strong>, version <strong>{String(folderAsset.asset_version)}</strong>.
          </p>
          <div className="check">
            <input id="use-form" type="checkbox" checked={useForm} onChange={(e) => setUseForm(e.target.checked)} />
            <label htmlFor="use-form">Describe the asset with the form instead</label>
          </div>
        </section>
      )}

      {chosen && useForm && (
        <form className="card asset-form" aria-labelledby="form-title" onSubmit={(e) => { e.preventDefault(); void upload(); }} id="asset-form">
          <h2 id="form-title">The asset</h2>
          <div className="grid">
            <div>
              <label htmlFor="f-id">Asset id</label>
              <input id="f-id" required pattern={ID_PATTERN} value={form.asset_id} onChange={set("asset_id")} readOnly={Boolean(forAsset)} aria-describedby="f-id-hint" />
              <p className="hint" id="f-id-hint">
                Letters, digits and . _ : @ -
              </p>
            </div>
            <div>
              <label htmlFor="f-version">Version</label>
              <input id="f-version" required value={form.asset_version} onChange={set("asset_version")} placeholder="v1" />
            </div>
            <div>
              <label htmlFor="f-type">Type</label>
              <input id="f-type" required value={form.asset_type} onChange={set("asset_type")} list="types" />
              <datalist id="types">
                {["model", "dataset", "policy", "component", "document"].map((t) => (
                  <option key={t} value={t} />
                ))}
              </datalist>
            </div>
            <div>
              <label htmlFor="f-sub-type">Sub-type</label>
              <input id="f-sub-type" value={form.asset_sub_type} onChange={set("asset_sub_type")} placeholder="llm" />
            </div>
            <div>
              <label htmlFor="f-tags">Tags (comma-separated)</label>
              <input id="f-tags" value={form.tags} onChange={set("tags")} placeholder="vision, sample" />
            </div>
            <div>
              <label htmlFor="f-visibility">Visibility</label>
              <select id="f-visibility" value={form.visibility} onChange={set("visibility")}>
                <option value="private">private (you and admins)</option>
                <option value="public">public (every reader)</option>
              </select>
            </div>
          </div>
          <label htmlFor="f-description">Description</label>
          <textarea id="f-description" rows={2} value={form.description} onChange={set("description")} />
        </form>
      )}

      {chosen && (
        <div className="card upload-go">
          <div className="check">
            <input id="in-parts" type="checkbox" checked={parts} onChange={(e) => setInParts(e.target.checked)} disabled={busy} />
            <label htmlFor="in-parts">Upload in resumable parts (on by itself past {bytes(PARTS_THRESHOLD)})</label>
          </div>
          {useForm ? (
            <button type="submit" form="asset-form" className="primary" disabled={busy}>
              Upload
            </button>
          ) : (
            <button type="button" className="primary" disabled={busy} onClick={() => void upload()}>
              Upload
            </button>
          )}
          {busy && (
            <button type="button" onClick={() => stopper.current?.abort()}>
              Stop
            </button>
          )}
        </div>
      )}

      {note && (
        <p role="status" className="hint">
          {note}
        </p>
      )}
      <ErrorBanner error={error} />
      {progress && (
        <section className="card" aria-labelledby="progress-title">
          <p className="visually-hidden" role="status">
            {PHASES[progress.phase]}
          </p>
          <h2 id="progress-title">
            {PHASES[progress.phase]}
            {progress.phase === "uploading" ? ` — ${bytes(progress.sent)} of ${bytes(progress.total)}` : ""}
          </h2>
          <ProgressBar
            value={progress.phase === "packing" || progress.phase === "processing" || progress.phase === "queued" ? null : progress.phase === "uploading" ? percent(progress.sent, progress.total) : 100}
            label="Upload and ingest"
          />
          <ol className="phases" aria-label="Steps">
            {(["packing", "uploading", "queued", "processing", "success"] as const).map((p) => (
              <li key={p} className={progress.phase === p ? "current" : ""}>
                {PHASES[p]}
              </li>
            ))}
          </ol>
          {progress.detail && progress.phase === "failed" && (
            <p role="alert" className="error">
              {progress.detail}
            </p>
          )}
        </section>
      )}
      {result?.status === "success" && result.asset_id && (
        <p role="status" className="ok">
          Ingested as <a href={assetHref(result.asset_id, result.asset_version)}>{result.asset_id} {result.asset_version}</a>.
        </p>
      )}
    </>
  );
}
