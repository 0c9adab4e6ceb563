import { useState } from "react";

import { hasRole, useConsole } from "../App";
import type { Json, Page } from "../api";
import { seg } from "../api";
import { QueryList } from "../components/QueryList";
import { ErrorBanner, useAction, useAsync } from "../ui";

interface Health {
  healthy: boolean;
  status_code?: number | null;
  latency_ms?: number | null;
  error?: string;
  checked_at?: string;
}

/** An entry's health, checked as the row is shown (GET /dbregistry/check_health/{id}). */
function HealthCell({ id }: { id: string }) {
  const { api } = useConsole();
  const [tick, setTick] = useState(0);
  const health = useAsync(() => api.get<Health>(`/dbregistry/check_health/${seg(id)}`), [id, api, tick]);
  let text = "checking…";
  let kind = "pending";
  if (health.error) {
    text = `not checked: ${(health.error as Error).message}`;
    kind = "bad";
  } else if (health.data) {
    const h = health.data;
    text = h.healthy ? `healthy (${h.latency_ms ?? "?"} ms)` : `unhealthy: ${h.error ?? `HTTP ${h.status_code}`}`;
    kind = h.healthy ? "good" : "bad";
  }
  return (
    <span className="health-cell">
      <span className={`health ${kind}`}>
        {text}
      </span>
      <button type="button" className="link" onClick={() => setTick((t) => t + 1)}>
        Check again<span className="visually-hidden"> {id}</span>
      </button>
    </span>
  );
}

export function DbRegistryPage() {
  const { api, session } = useConsole();
  const action = useAction();
  const [name, setName] = useState("");
  const [url, setUrl] = useState("");
  const [added, setAdded] = useState(0);
  return (
    <>
      <h1>Assets DB registry</h1>
      <p>The directory of Assets DBs, each checked at its public URL's /health.</p>
      <QueryList
        id="dbregistry"
        what="registered Assets DBs"
        example='{"asset_registry_tags": ["prod"]}'
        keyOf={(i) => String(i.asset_registry_id)}
        load={(filter, cursor) => api.post<Page<Json>>("/dbregistry/asset_registries", filter, { limit: 25, cursor })}
        deps={[api, added]}
        columns={[
          { label: "Id", cell: (i) => <code>{String(i.asset_registry_id)}</code> },
          { label: "Name", cell: (i) => String(i.asset_registry_name ?? "") },
          { label: "URL", cell: (i) => String(i.asset_registry_public_url ?? "") },
          { label: "Health", cell: (i) => (i.asset_registry_public_url ? <HealthCell id={String(i.asset_registry_id)} /> : <span className="hint">no URL</span>) },
        ]}
      />
      {hasRole(session, "assets-writer") && (
        <form
          className="card"
          aria-labelledby="register-title"
          onSubmit={(e) => {
            e.preventDefault();
            action.run(async () => {
              await api.post("/dbregistry/asset_registry", { asset_registry_name: name.trim(), asset_registry_public_url: url.trim() });
              setName("");
              setUrl("");
              setAdded((n) => n + 1);
            });
          }}
        >
          <h2 id="register-title">Register an Assets DB</h2>
          <ErrorBanner error={action.error} />
          <label htmlFor="reg-name">Name</label>
          <input id="reg-name" required value={name} onChange={(e) => setName(e.target.value)} />
          <label htmlFor="reg-url">Public URL (its /health is checked)</label>
          <input id="reg-url" type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://assets-db.example.com/assetdb" />
          <button type="submit" disabled={action.busy}>
            Register
          </button>
        </form>
      )}
    </>
  );
}
