import { useEffect, useRef, useState } from "react";

import { hasRole, useConsole } from "../App";
import { ApiError, type FileRow, type Json, type VersionRow } from "../api";
import { nextVersionOf, RELATIONS } from "../asset";
import { bytes, when } from "../format";
import { Lineage } from "../components/Lineage";
import { assetHref, href } from "../router";
import { ErrorBanner, JsonBlock, Loading, Section, startDownload, useAction, useAsync } from "../ui";

const SHOWN = ["asset_id", "asset_version", "asset_uri", "asset_brief_description", "visibility", "asset_container_uri", "asset_workflow_id", "created_by", "created_at", "updated_by", "updated_at"];
const LABELS: Record<string, string> = {
  asset_id: "Asset id",
  asset_version: "Version",
  asset_uri: "URI",
  asset_brief_description: "Description",
  visibility: "Visibility",
  asset_container_uri: "Container",
  asset_workflow_id: "Workflow",
  created_by: "Created by",
  created_at: "Created",
  updated_by: "Updated by",
  updated_at: "Updated",
};

export function AssetPage({ assetId, version }: { assetId: string; version?: string }) {
  const { api, session } = useConsole();
  const [tick, setTick] = useState(0);
  const asset = useAsync(() => api.asset(assetId, version), [assetId, version, api, tick]);
  const versions = useAsync(() => api.versions(assetId), [assetId, api, tick]);
  const refresh = () => setTick((t) => t + 1);

  if (asset.loading && !asset.data) return <Loading what={assetId} />;
  if (asset.error || !asset.data) {
    return (
      <>
        <h1>{assetId}</h1>
        <ErrorBanner error={asset.error} />
        <p>
          <a href="#/">Back to search</a>
        </p>
      </>
    );
  }
  const doc = asset.data;
  const shownVersion = String(doc.asset_version);
  const writer = hasRole(session, "assets-writer");
  const rows = versions.data?.items ?? [];
  return (
    <>
      <div className="asset-head">
        <h1>
          {assetId} <span className="version-badge">{shownVersion}</span>
        </h1>
        <div className="asset-actions">
          <label htmlFor="version-select">Version</label>
          <select id="version-select" value={version ?? ""} onChange={(e) => (location.hash = assetHref(assetId, e.target.value || undefined).slice(1))}>
            <option value="">current ({rows[0]?.asset_version ?? shownVersion})</option>
            {rows.map((v) => (
              <option key={v.asset_version} value={v.asset_version}>
                {v.asset_version}
                {v.aliases?.length ? ` (${v.aliases.join(", ")})` : ""}
              </option>
            ))}
          </select>
          <ZipDownload assetId={assetId} version={version} />
          {writer && (
            <a className="button" href={href("/upload", { asset_id: assetId })}>
              Upload a new version
            </a>
          )}
        </div>
      </div>
      <Section id="overview" title="Overview">
        <dl className="fields">
          {SHOWN.filter((k) => doc[k] !== undefined && doc[k] !== null && doc[k] !== "").map((k) => (
            <div key={k}>
              <dt>{LABELS[k]}</dt>
              <dd>{k.endsWith("_at") ? when(String(doc[k])) : String(doc[k])}</dd>
            </div>
          ))}
        </dl>
      </Section>
      <Profiles profiles={(doc.profiles as Json[]) ?? []} />
      <Files key={version ?? ""} assetId={assetId} version={version} />
      <Versions assetId={assetId} rows={rows} error={versions.error} writer={writer} current={doc} onChange={refresh} />
      <Section id="lineage" title="Lineage">
        <Lineage assetId={assetId} version={version ?? shownVersion} writer={writer} relations={RELATIONS} key={tick} />
      </Section>
      {(["policies", "apis", "index_mappings"] as const).map((k) =>
        Array.isArray(doc[k]) && (doc[k] as unknown[]).length > 0 ? (
          <Section key={k} id={k} title={{ policies: "Policies", apis: "APIs", index_mappings: "Index mappings" }[k]}>
            <JsonBlock value={doc[k]} label={k} />
          </Section>
        ) : null,
      )}
      {hasRole(session, "assets-admin") && <Audit assetId={assetId} key={`audit-${tick}`} />}
      <Section id="document" title="Document">
        <details>
          <summary>The stored document (JSON)</summary>
          <JsonBlock value={doc} label="The asset document" />
        </details>
      </Section>
    </>
  );
}

function Profiles({ profiles }: { profiles: Json[] }) {
  if (!profiles.length) return null;
  return (
    <Section id="profiles" title="Profiles">
      {profiles.map((p) => (
        <article key={String(p.asset_profile_id)} className="profile" aria-label={`Profile ${String(p.asset_profile_id)}`}>
          <h3>
            {String(p.asset_type)} / {String(p.asset_sub_type)} <span className="hint">{String(p.asset_profile_id)}</span>
          </h3>
          {typeof p.asset_description === "string" && <p>{p.asset_description}</p>}
          <p>
            {((p.asset_tags as string[]) ?? []).map((t) => (
              <a key={t} className="tag" href={href("/", { tag: t })}>
                {t}
              </a>
            ))}
          </p>
          {Object.entries(p)
            .filter(([, v]) => typeof v === "object" && v !== null && !Array.isArray(v))
            .map(([k, v]) => (
              <details key={k}>
                <summary>{k}</summary>
                <JsonBlock value={v} label={k} />
              </details>
            ))}
        </article>
      ))}
    </Section>
  );
}

function ZipDownload({ assetId, version }: { assetId: string; version?: string }) {
  const { api } = useConsole();
  const action = useAction();
  const [note, setNote] = useState("");
  // Polling for an assembled ZIP stops when the user leaves the page.
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);
  return (
    <>
      <button
        type="button"
        disabled={action.busy}
        onClick={() =>
          action.run(async () => {
            // Past the streaming limit the ZIP is assembled in S3 first: poll until it is there.
            for (let tries = 0; alive.current; tries++) {
              const answer = await api.zipLink(assetId, version);
              if (!alive.current) return;
              if (answer.location) {
                setNote("");
                startDownload(answer.location);
                return;
              }
              setNote("The ZIP is being assembled…");
              if (tries > 600) throw new ApiError(0, "SLOW", "The ZIP is still being assembled: try again later.");
              await new Promise((r) => setTimeout(r, 2000));
            }
          })
        }
      >
        {action.busy ? "Preparing the ZIP…" : "Download ZIP"}
      </button>
      {note && <span role="status">{note}</span>}
      <ErrorBanner error={action.error} />
    </>
  );
}

function Files({ assetId, version }: { assetId: string; version?: string }) {
  const { api } = useConsole();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const files = useAsync(() => api.files(assetId, version, cursors[cursors.length - 1]), [assetId, version, cursors, api]);
  const action = useAction();
  const rows: FileRow[] = files.data?.items ?? [];
  const total = rows.reduce((sum, f) => sum + (f.size ?? 0), 0);
  return (
    <Section id="files" title="Files">
      <ErrorBanner error={files.error ?? action.error} />
      {files.loading && <Loading what="files" />}
      {files.data && rows.length === 0 && <p>This version has no stored files.</p>}
      {rows.length > 0 && (
        <table className="table files">
          <caption className="visually-hidden">Files of this version</caption>
          <thead>
            <tr>
              <th scope="col">Path</th>
              <th scope="col">Size</th>
              <th scope="col">SHA-256</th>
              <th scope="col">Type</th>
              <th scope="col">
                <span className="visually-hidden">Download</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((f) => (
              <tr key={f.path}>
                <td className="path">{f.path}</td>
                <td>{bytes(f.size)}</td>
                <td>
                  <code className="sha" title={f.sha256}>
                    {f.sha256}
                  </code>
                </td>
                <td>{f.mime_type ?? ""}</td>
                <td>
                  <button
                    type="button"
                    aria-label={`Download ${f.path}`}
                    disabled={action.busy}
                    onClick={() => action.run(async () => startDownload((await api.fileLink(assetId, f.path, version)).location))}
                  >
                    Download
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">{rows.length} files on this page</th>
              <td>{bytes(total)}</td>
              <td colSpan={3}></td>
            </tr>
          </tfoot>
        </table>
      )}
      {(files.data?.next_cursor || cursors.length > 1) && (
        <nav aria-label="File pages" className="pager">
          <button type="button" disabled={cursors.length < 2} onClick={() => setCursors((c) => c.slice(0, -1))}>
            Previous files
          </button>
          <button type="button" disabled={!files.data?.next_cursor} onClick={() => setCursors((c) => [...c, files.data!.next_cursor])}>
            More files
          </button>
        </nav>
      )}
    </Section>
  );
}

function Versions({ assetId, rows, error, writer, current, onChange }: { assetId: string; rows: VersionRow[]; error: unknown; writer: boolean; current: Json; onChange: () => void }) {
  const { api } = useConsole();
  const action = useAction();
  const [alias, setAlias] = useState("");
  const [aliasVersion, setAliasVersion] = useState("");
  const [newVersion, setNewVersion] = useState("");
  const [done, setDone] = useState("");
  return (
    <Section id="versions" title="Versions and aliases">
      <ErrorBanner error={error ?? action.error} />
      {done && (
        <p role="status" className="ok">
          {done}
        </p>
      )}
      <table className="table">
        <caption className="visually-hidden">Versions, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Created</th>
            <th scope="col">By</th>
            <th scope="col">Files</th>
            <th scope="col">Size</th>
            <th scope="col">Aliases</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((v) => (
            <tr key={v.asset_version}>
              <td>
                <a href={assetHref(assetId, v.asset_version)}>{v.asset_version}</a>
              </td>
              <td>{when(v.created_at)}</td>
              <td>{v.created_by ?? "—"}</td>
              <td>{v.file_count ?? 0}</td>
              <td>{bytes(v.total_bytes ?? 0)}</td>
              <td>
                {(v.aliases ?? []).map((a) => (
                  <span key={a} className="tag alias">
                    {a}
                    {writer && a !== "latest" && (
                      <button
                        type="button"
                        className="link"
                        aria-label={`Remove alias ${a}`}
                        onClick={() =>
                          action.run(async () => {
                            await api.deleteAlias(assetId, a);
                            setDone(`Alias ${a} removed.`);
                            onChange();
                          })
                        }
                      >
                        ×
                      </button>
                    )}
                  </span>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {writer && (
        <div className="forms">
          <form
            aria-labelledby="alias-title"
            onSubmit={(e) => {
              e.preventDefault();
              action.run(async () => {
                const target = aliasVersion || rows[0]?.asset_version;
                await api.setAlias(assetId, alias.trim(), target);
                setDone(`Alias ${alias.trim()} now names ${target}.`);
                setAlias("");
                onChange();
              });
            }}
          >
            <h3 id="alias-title">Set an alias</h3>
            <label htmlFor="alias-name">Alias</label>
            <input id="alias-name" required value={alias} onChange={(e) => setAlias(e.target.value)} placeholder="production" />
            <label htmlFor="alias-version">For version</label>
            <select id="alias-version" value={aliasVersion} onChange={(e) => setAliasVersion(e.target.value)}>
              {rows.map((v) => (
                <option key={v.asset_version} value={v.asset_version}>
                  {v.asset_version}
                </option>
              ))}
            </select>
            <button type="submit" disabled={action.busy}>
              Set alias
            </button>
          </form>
          <form
            aria-labelledby="new-version-title"
            onSubmit={(e) => {
              e.preventDefault();
              action.run(async () => {
                await api.addVersion(assetId, nextVersionOf(current, newVersion.trim()));
                setDone(`Version ${newVersion.trim()} added: it is now the current one.`);
                setNewVersion("");
                onChange();
              });
            }}
          >
            <h3 id="new-version-title">Add a version</h3>
            <p className="hint">Keeps this version's metadata; to add files, upload a new version.</p>
            <label htmlFor="new-version">New version</label>
            <input id="new-version" required value={newVersion} onChange={(e) => setNewVersion(e.target.value)} placeholder="v2" />
            <button type="submit" disabled={action.busy}>
              Add version
            </button>
          </form>
        </div>
      )}
    </Section>
  );
}

function Audit({ assetId }: { assetId: string }) {
  const { api } = useConsole();
  const audit = useAsync(() => api.audit(assetId), [assetId, api]);
  return (
    <Section id="audit" title="Audit history">
      <ErrorBanner error={audit.error} />
      {audit.loading && <Loading what="the audit history" />}
      {audit.data && (
        <table className="table">
          <caption className="visually-hidden">Changes to this asset, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Version</th>
              <th scope="col">Changed</th>
            </tr>
          </thead>
          <tbody>
            {audit.data.items.map((r, i) => (
              <tr key={i}>
                <td>{when(String(r.at))}</td>
                <td>{String(r.actor)}</td>
                <td>{String(r.action)}</td>
                <td>{String(r.version ?? "")}</td>
                <td>{Array.isArray(r.changes) ? r.changes.join(", ") : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}
