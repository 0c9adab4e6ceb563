import { describe, expect, it } from "vitest";

import { layout } from "../src/lineage";

describe("the lineage layout", () => {
  it("puts upstream versions left of the centre and downstream ones right, a column per step", () => {
    const graph = {
      nodes: [
        { asset_id: "data", asset_version: "v1", asset_type: "dataset" },
        { asset_id: "base", asset_version: "v1" },
        { asset_id: "model", asset_version: "v2" },
        { asset_id: "app", asset_version: "v1" },
        { asset_id: "eval", asset_version: "v1" },
      ],
      edges: [
        { from: "model/v2", to: "base/v1", relation: "fine_tuned_from" },
        { from: "base/v1", to: "data/v1", relation: "trained_on" },
        { from: "app/v1", to: "model/v2", relation: "depends_on" },
        { from: "eval/v1", to: "model/v2", relation: "evaluated_on" },
      ],
    };
    const placed = layout(graph, "model/v2");
    const column = Object.fromEntries(placed.nodes.map((n) => [n.key, n.column]));
    expect(column).toEqual({ "data/v1": -2, "base/v1": -1, "model/v2": 0, "app/v1": 1, "eval/v1": 1 });
    const x = Object.fromEntries(placed.nodes.map((n) => [n.key, n.x]));
    expect(x["data/v1"]).toBeLessThan(x["base/v1"]);
    expect(x["base/v1"]).toBeLessThan(x["model/v2"]);
    expect(x["app/v1"]).toBe(x["eval/v1"]);
    const ys = placed.nodes.filter((n) => n.column === 1).map((n) => n.y);
    expect(new Set(ys).size).toBe(2); // no two nodes drawn over each other
    expect(placed.edges).toHaveLength(4);
    expect(placed.width).toBeGreaterThan(x["app/v1"]);
  });

  it("draws a version with no edges alone, and survives a cycle", () => {
    expect(layout({ nodes: [{ asset_id: "a", asset_version: "v1" }], edges: [] }, "a/v1").nodes).toHaveLength(1);
    const cyclic = layout(
      { nodes: [], edges: [{ from: "a/v1", to: "b/v1", relation: "x-r" }, { from: "b/v1", to: "a/v1", relation: "x-r" }] },
      "a/v1",
    );
    expect(cyclic.nodes.map((n) => n.key).sort()).toEqual(["a/v1", "b/v1"]);
  });
});
