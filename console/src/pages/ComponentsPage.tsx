import { useConsole } from "../App";
import type { Json, Page } from "../api";
import { QueryList } from "../components/QueryList";

const idOf = (c: Json) => (c.componentId ?? {}) as Json;

export function ComponentsPage() {
  const { api } = useConsole();
  return (
    <>
      <h1>Components</h1>
      <p>Container components with their protocols and metadata (spec 002).</p>
      <QueryList
        id="components"
        what="components"
        example='{"componentType": "model"}'
        keyOf={(c) => String(c.componentURI)}
        load={(filter, cursor) => api.post<Page<Json>>("/components/api/query", { query: filter }, { limit: 25, cursor })}
        deps={[api]}
        columns={[
          { label: "URI", cell: (c) => <code>{String(c.componentURI)}</code> },
          { label: "Name", cell: (c) => String(idOf(c).name ?? "") },
          { label: "Version", cell: (c) => String(idOf(c).version ?? "") },
          { label: "Release", cell: (c) => String(idOf(c).releaseTag ?? "") },
          { label: "Type", cell: (c) => String(c.componentType ?? "") },
          { label: "Image", cell: (c) => String(((c.containerRegistryInfo ?? {}) as Json).containerImage ?? "") },
        ]}
      />
    </>
  );
}
