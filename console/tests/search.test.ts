import { describe, expect, it } from "vitest";

import { buildFilter, escapeRegex, FilterError, parseFilter, stateFromQuery, stateToQuery, toggle, type SearchState } from "../src/search";

const empty: SearchState = { text: "", chosen: {}, filter: "" };

describe("the search filter", () => {
  it("is empty when nothing is asked", () => {
    expect(buildFilter(empty)).toEqual({});
  });

  it("matches every word, case-insensitively, in names, descriptions and tags, as literal text", () => {
    const filter = buildFilter({ ...empty, text: "  llama  v2.0 " }) as { $and: { $or: Record<string, { $regex: string; $options: string }>[] }[] };
    expect(filter.$and).toHaveLength(2);
    const [first, second] = filter.$and;
    expect(first.$or.map((c) => Object.keys(c)[0])).toContain("profiles.asset_tags");
    expect(first.$or[0]).toEqual({ asset_id: { $regex: "llama", $options: "i" } });
    expect(Object.values(second.$or[0])[0].$regex).toBe("v2\\.0");
  });

  it("escapes every character a regex would read", () => {
    const hostile = "a.*+?^${}()|[]\\/b";
    expect(new RegExp(escapeRegex(hostile)).test(hostile)).toBe(true);
    expect(new RegExp(`^${escapeRegex("(a+)+$")}$`).test("aaaa")).toBe(false);
  });

  it("narrows by the facets chosen (any of a facet's values) and the typed filter", () => {
    const filter = buildFilter({
      text: "",
      chosen: { asset_type: ["model"], tag: ["a", "b"] },
      filter: '{"created_at": {"$gte": "2026-01-01"}}',
    });
    expect(filter).toEqual({
      $and: [
        { "profiles.asset_type": "model" },
        { "profiles.asset_tags": { $in: ["a", "b"] } },
        { created_at: { $gte: "2026-01-01" } },
      ],
    });
  });

  it("refuses a typed filter that is not a JSON object, saying why", () => {
    expect(() => parseFilter("{not json")).toThrow(FilterError);
    expect(() => parseFilter("[1]")).toThrow(/JSON object/);
    expect(parseFilter("   ")).toBeNull();
  });

  it("refuses text too long for the API's regex limit", () => {
    expect(() => buildFilter({ ...empty, text: "x".repeat(101) })).toThrow(/at most 100/);
  });

  it("keeps its state in the address, and facets toggle on and off", () => {
    const state = toggle(toggle({ text: "cats", chosen: {}, filter: '{"a": 1}' }, "tag", "x"), "owner", "alice");
    expect(stateFromQuery(stateToQuery(state))).toEqual(state);
    expect(toggle(state, "tag", "x").chosen).toEqual({ owner: ["alice"] });
  });
});
