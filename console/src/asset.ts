// Asset documents the console writes: a new asset from the upload form, and a new version
// carrying the current version's metadata.

import type { Json } from "./api";

export const SERVER_FIELDS = ["created_by", "created_at", "updated_by", "updated_at"];
export const ID_PATTERN = "[A-Za-z0-9][A-Za-z0-9._:@\\-]{0,199}";
export const RELATIONS = ["derived_from", "trained_on", "evaluated_on", "fine_tuned_from", "input_of", "output_of", "depends_on"];

export interface AssetForm {
  asset_id: string;
  asset_version: string;
  asset_type: string;
  asset_sub_type: string;
  tags: string;
  description: string;
  visibility: "private" | "public";
}

export const emptyForm = (assetId = ""): AssetForm => ({
  asset_id: assetId,
  asset_version: assetId ? "" : "v1",
  asset_type: "model",
  asset_sub_type: "",
  tags: "",
  description: "",
  visibility: "private",
});

export function tagList(text: string): string[] {
  return [...new Set(text.split(",").map((t) => t.trim()).filter(Boolean))];
}

/** A bundle's asset.json from the form: one profile; the bundle's files become its files. */
export function assetFromForm(form: AssetForm): Json {
  const id = form.asset_id.trim();
  const profile: Json = {
    asset_profile_id: `${id}-profile`,
    asset_type: form.asset_type.trim(),
    asset_sub_type: form.asset_sub_type.trim() || form.asset_type.trim(),
    asset_id: id,
    asset_tags: tagList(form.tags),
  };
  if (form.description.trim()) profile.asset_description = form.description.trim();
  const asset: Json = {
    asset_id: id,
    asset_uri: `registry://${id}`,
    asset_version: form.asset_version.trim(),
    asset_profile_id: profile.asset_profile_id,
    asset_file_ids: [],
    profiles: [profile],
    visibility: form.visibility,
  };
  if (form.description.trim()) asset.asset_brief_description = form.description.trim();
  return asset;
}

/** A stored file: one whose bytes the registry keeps (its URL points into the deployment). */
export function isStored(file: Json): boolean {
  const meta = (file.asset_file_metadata ?? {}) as Json;
  return typeof meta.sha256 === "string" || String(file.asset_file_url ?? "").startsWith("s3://");
}

/** The current version's metadata as a new version: no server fields, no stored files (the
 * files of a version never change: new files come in a bundle), no write-only secrets. */
export function nextVersionOf(current: Json, version: string): Json {
  const next: Json = {};
  for (const [key, value] of Object.entries(current)) {
    if (SERVER_FIELDS.includes(key) || key === "lineage") continue;
    next[key] = value;
  }
  const files = ((current.files as Json[] | undefined) ?? []).filter((f) => !isStored(f));
  next.files = files;
  next.asset_file_ids = files.map((f) => f.asset_file_id);
  const credentials = next.asset_container_registry_creds_config as Json | undefined;
  if (credentials && credentials.redacted === true) delete next.asset_container_registry_creds_config;
  next.asset_version = version;
  return next;
}
