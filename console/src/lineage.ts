// Lineage drawn as layers: the version shown in the middle column, what it comes from
// (upstream, the edges' targets) to its left, what comes from it (downstream) to its right,
// one column per step.

import type { LineageGraph } from "./api";

export interface PlacedNode {
  key: string;
  asset_id: string;
  asset_version: string;
  asset_type?: string | null;
  column: number; // 0: the centre; negative: upstream; positive: downstream
  row: number;
  x: number;
  y: number;
}

export interface PlacedEdge {
  from: PlacedNode;
  to: PlacedNode;
  relation: string;
}

export interface Layout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

export const NODE_WIDTH = 190;
export const NODE_HEIGHT = 48;
const COLUMN_GAP = 90;
const ROW_GAP = 22;
const MARGIN = 16;

export const nodeKey = (assetId: string, version: string) => `${assetId}/${version}`;

export function layout(graph: LineageGraph, centre: string): Layout {
  // An edge "from -> to" says that "from" was made from "to": "to" is upstream of "from".
  const upstreamOf = new Map<string, string[]>();
  const downstreamOf = new Map<string, string[]>();
  for (const edge of graph.edges) {
    upstreamOf.set(edge.from, [...(upstreamOf.get(edge.from) ?? []), edge.to]);
    downstreamOf.set(edge.to, [...(downstreamOf.get(edge.to) ?? []), edge.from]);
  }
  const column = new Map<string, number>([[centre, 0]]);
  const walk = (neighbours: Map<string, string[]>, step: number) => {
    let frontier = [centre];
    let depth = 0;
    while (frontier.length) {
      depth += step;
      const next: string[] = [];
      for (const key of frontier) {
        for (const other of neighbours.get(key) ?? []) {
          if (!column.has(other)) {
            column.set(other, depth);
            next.push(other);
          }
        }
      }
      frontier = next;
    }
  };
  walk(upstreamOf, -1);
  walk(downstreamOf, 1);
  const byKey = new Map(graph.nodes.map((n) => [nodeKey(n.asset_id, n.asset_version), n]));
  for (const key of byKey.keys()) if (!column.has(key)) column.set(key, 0); // reached sideways
  const columns = [...new Set(column.values())].sort((a, b) => a - b);
  const rows = new Map<number, number>();
  const placed = new Map<string, PlacedNode>();
  const ordered = [...column.entries()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
  for (const [key, col] of ordered) {
    const row = rows.get(col) ?? 0;
    rows.set(col, row + 1);
    const node = byKey.get(key);
    const [assetId, ...rest] = key.split("/");
    placed.set(key, {
      key,
      asset_id: node?.asset_id ?? assetId,
      asset_version: node?.asset_version ?? rest.join("/"),
      asset_type: node?.asset_type,
      column: col,
      row,
      x: MARGIN + columns.indexOf(col) * (NODE_WIDTH + COLUMN_GAP),
      y: MARGIN + row * (NODE_HEIGHT + ROW_GAP),
    });
  }
  const edges: PlacedEdge[] = [];
  for (const edge of graph.edges) {
    const from = placed.get(edge.from);
    const to = placed.get(edge.to);
    if (from && to) edges.push({ from, to, relation: edge.relation });
  }
  const tallest = Math.max(1, ...rows.values());
  return {
    nodes: [...placed.values()],
    edges,
    width: MARGIN * 2 + columns.length * NODE_WIDTH + (columns.length - 1) * COLUMN_GAP,
    height: MARGIN * 2 + tallest * NODE_HEIGHT + (tallest - 1) * ROW_GAP,
  };
}
