import { useConsole } from "../App";
import type { Json, Page } from "../api";
import { seg } from "../api";
import { QueryList } from "../components/QueryList";
import { ErrorBanner, startDownload, useAction } from "../ui";

const version = (item: Json) => {
  const v = (item.asset_version ?? {}) as Json;
  return [v.version, v.tag].filter(Boolean).join("-");
};

export function AssetDbPage() {
  const { api } = useConsole();
  const action = useAction();
  return (
    <>
      <h1>Assets DB</h1>
      <p>Files with metadata, each stored once in the object store (spec 001).</p>
      <ErrorBanner error={action.error} />
      <QueryList
        id="assetdb"
        what="Assets DB records"
        example='{"asset_tags": ["sample"]}'
        keyOf={(i) => String(i.asset_id)}
        load={(filter, cursor) => api.post<Page<Json>>("/assetdb/assets", filter, { limit: 25, cursor })}
        deps={[api]}
        columns={[
          { label: "Id", cell: (i) => <code>{String(i.asset_id)}</code> },
          { label: "Name", cell: (i) => String(i.asset_name ?? "") },
          { label: "Version", cell: version },
          { label: "URI", cell: (i) => String(i.asset_uri ?? "") },
          { label: "Tags", cell: (i) => ((i.asset_tags as string[]) ?? []).map((t) => <span key={t} className="tag">{t}</span>) },
          { label: "Visibility", cell: (i) => String(i.visibility ?? "") },
          {
            label: "File",
            cell: (i) => (
              <button
                type="button"
                aria-label={`Download the file of ${String(i.asset_id)}`}
                onClick={() =>
                  action.run(async () => {
                    const link = await api.get<{ location: string }>(`/assetdb/asset-object/${seg(String(i.asset_id))}`, { redirect: "false" });
                    startDownload(link.location);
                  })
                }
              >
                Download
              </button>
            ),
          },
        ]}
      />
    </>
  );
}
