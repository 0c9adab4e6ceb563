// The search page's query: free text over names, descriptions and tags, the facets chosen,
// and a MongoDB-style filter typed by a power user, combined into one filter of the
// operators the API allows.

import type { Json } from "./api";

// The API refuses a $regex over 256 characters; the text is escaped first, so less fits.
export const MAX_TEXT = 100;

export const TEXT_FIELDS = [
  "asset_id",
  "asset_uri",
  "asset_brief_description",
  "profiles.asset_description",
  "profiles.asset_tags",
  "profiles.asset_type",
  "profiles.asset_sub_type",
];

// Where each facet's value is matched (the facets route answers the same paths).
export const FACET_PATHS: Record<string, string> = {
  asset_type: "profiles.asset_type",
  asset_sub_type: "profiles.asset_sub_type",
  tag: "profiles.asset_tags",
  owner: "created_by",
};

export const FACET_LABELS: Record<string, string> = {
  asset_type: "Type",
  asset_sub_type: "Sub-type",
  tag: "Tag",
  owner: "Owner",
};

export class FilterError extends Error {}

export interface SearchState {
  text: string;
  chosen: Record<string, string[]>; // facet name -> values (any of them)
  filter: string; // the power user's JSON, as typed
}

export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

export function parseFilter(text: string): Json | null {
  if (!text.trim()) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new FilterError(`The filter is not valid JSON: ${(error as Error).message}.`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new FilterError('The filter must be a JSON object, e.g. {"profiles.asset_type": "model"}.');
  }
  return parsed as Json;
}

export function buildFilter(state: SearchState, paths: Record<string, string> = FACET_PATHS): Json {
  const parts: Json[] = [];
  const words = state.text.trim().split(/\s+/).filter(Boolean);
  if (state.text.trim().length > MAX_TEXT) {
    throw new FilterError(`Search text is at most ${MAX_TEXT} characters.`);
  }
  for (const word of words) {
    const pattern = escapeRegex(word);
    parts.push({ $or: TEXT_FIELDS.map((field) => ({ [field]: { $regex: pattern, $options: "i" } })) });
  }
  for (const [facet, values] of Object.entries(state.chosen)) {
    const path = paths[facet];
    if (!path || values.length === 0) continue;
    parts.push(values.length === 1 ? { [path]: values[0] } : { [path]: { $in: values } });
  }
  const typed = parseFilter(state.filter);
  if (typed) parts.push(typed);
  if (parts.length === 0) return {};
  return parts.length === 1 ? parts[0] : { $and: parts };
}

/** The search state in the page's address (#/?q=...&type=...), so a search can be shared. */
export function stateToQuery(state: SearchState): URLSearchParams {
  const query = new URLSearchParams();
  if (state.text) query.set("q", state.text);
  for (const [facet, values] of Object.entries(state.chosen)) {
    for (const value of values) query.append(facet, value);
  }
  if (state.filter.trim()) query.set("filter", state.filter);
  return query;
}

export function stateFromQuery(query: URLSearchParams): SearchState {
  const chosen: Record<string, string[]> = {};
  for (const facet of Object.keys(FACET_PATHS)) {
    const values = query.getAll(facet);
    if (values.length) chosen[facet] = values;
  }
  return { text: query.get("q") ?? "", chosen, filter: query.get("filter") ?? "" };
}

export function toggle(state: SearchState, facet: string, value: string): SearchState {
  const current = state.chosen[facet] ?? [];
  const next = current.includes(value) ? current.filter((v) => v !== value) : [...current, value];
  const chosen = { ...state.chosen, [facet]: next };
  if (next.length === 0) delete chosen[facet];
  return { ...state, chosen };
}
