import { useState } from "react";

import { useConsole } from "../App";
import { layout, NODE_HEIGHT, NODE_WIDTH, nodeKey } from "../lineage";
import { assetHref } from "../router";
import { ErrorBanner, Loading, useAction, useAsync } from "../ui";

export function Lineage({ assetId, version, writer, relations }: { assetId: string; version: string; writer: boolean; relations: string[] }) {
  const { api } = useConsole();
  const [depth, setDepth] = useState(3);
  const [tick, setTick] = useState(0);
  const graph = useAsync(() => api.lineage(assetId, version, depth), [assetId, version, depth, api, tick]);
  const action = useAction();
  const [relation, setRelation] = useState(relations[0]);
  const [target, setTarget] = useState("");
  const [targetVersion, setTargetVersion] = useState("");
  const centre = nodeKey(assetId, version);
  const placed = graph.data ? layout(graph.data, centre) : null;
  const label = (key: string) => key.replace("/", " ");

  return (
    <div className="lineage">
      <div className="row">
        <label htmlFor="lineage-depth">Steps out</label>
        <select id="lineage-depth" value={depth} onChange={(e) => setDepth(Number(e.target.value))}>
          {[1, 2, 3, 5, 10].map((n) => (
            <option key={n}>{n}</option>
          ))}
        </select>
        <span className="hint">Upstream (what it comes from) on the left, downstream on the right.</span>
      </div>
      <ErrorBanner error={graph.error} />
      {graph.loading && <Loading what="lineage" />}
      {placed && placed.edges.length === 0 && <p>No lineage recorded for this version.</p>}
      {placed && placed.edges.length > 0 && (
        <>
          <div className="graph-scroll">
            <svg
              role="group"
              aria-labelledby="lineage-graph-title"
              width={placed.width}
              height={placed.height}
              viewBox={`0 0 ${placed.width} ${placed.height}`}
              data-testid="lineage-graph"
            >
              <title id="lineage-graph-title">
                Lineage of {assetId} {version}: {placed.nodes.length} versions, {placed.edges.length} edges
              </title>
              <defs>
                <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                  <path d="M 0 0 L 10 5 L 0 10 z" className="arrow" />
                </marker>
              </defs>
              {placed.edges.map((e, i) => {
                // drawn from the upstream version (left) to the one made from it
                const [left, right] = e.to.column <= e.from.column ? [e.to, e.from] : [e.from, e.to];
                const x1 = left.x + NODE_WIDTH;
                const y1 = left.y + NODE_HEIGHT / 2;
                const x2 = right.x;
                const y2 = right.y + NODE_HEIGHT / 2;
                return (
                  <g key={i} className="edge">
                    <path d={`M ${x1} ${y1} C ${(x1 + x2) / 2} ${y1}, ${(x1 + x2) / 2} ${y2}, ${x2} ${y2}`} markerEnd="url(#arrow)" />
                    <text x={(x1 + x2) / 2} y={(y1 + y2) / 2 - 6} textAnchor="middle">
                      {e.relation}
                    </text>
                  </g>
                );
              })}
              {placed.nodes.map((n) => (
                <a key={n.key} href={assetHref(n.asset_id, n.asset_version)} aria-label={`${n.asset_id} ${n.asset_version}`}>
                  <g className={n.key === centre ? "node centre" : "node"}>
                    <rect x={n.x} y={n.y} width={NODE_WIDTH} height={NODE_HEIGHT} rx={8} />
                    <text x={n.x + 10} y={n.y + 20}>
                      {n.asset_id.length > 24 ? n.asset_id.slice(0, 23) + "…" : n.asset_id}
                    </text>
                    <text x={n.x + 10} y={n.y + 38} className="sub">
                      {n.asset_version}
                      {n.asset_type ? ` · ${n.asset_type}` : ""}
                    </text>
                  </g>
                </a>
              ))}
            </svg>
          </div>
          <ul className="edge-list" aria-label="Lineage edges">
            {graph.data!.edges.map((e, i) => {
              const [fromId, fromVersion] = e.from.split("/");
              const [toId, toVersion] = e.to.split("/");
              return (
                <li key={i}>
                  <a href={assetHref(fromId, fromVersion)}>{label(e.from)}</a> <em>{e.relation}</em>{" "}
                  <a href={assetHref(toId, toVersion)}>{label(e.to)}</a>
                </li>
              );
            })}
          </ul>
        </>
      )}
      {writer && (
        <form
          aria-labelledby="edge-title"
          onSubmit={(e) => {
            e.preventDefault();
            action.run(async () => {
              await api.addLineage(assetId, version, { relation, asset_id: target.trim(), asset_version: targetVersion.trim() });
              setTarget("");
              setTargetVersion("");
              setTick((t) => t + 1);
            });
          }}
        >
          <h3 id="edge-title">Record lineage</h3>
          <p className="hint">
            This version ({assetId} {version}) is…
          </p>
          <ErrorBanner error={action.error} />
          <div>
            <label htmlFor="edge-relation">Relation</label>
            <select id="edge-relation" value={relation} onChange={(e) => setRelation(e.target.value)}>
              {relations.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="edge-asset">Asset</label>
            <input id="edge-asset" required value={target} onChange={(e) => setTarget(e.target.value)} placeholder="base-model" />
          </div>
          <div>
            <label htmlFor="edge-version">Its version</label>
            <input id="edge-version" required value={targetVersion} onChange={(e) => setTargetVersion(e.target.value)} placeholder="v1" />
          </div>
          <button type="submit" disabled={action.busy}>
            Add edge
          </button>
        </form>
      )}
    </div>
  );
}
