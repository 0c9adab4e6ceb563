import { useState, type ReactNode } from "react";

import type { Json, Page } from "../api";
import { parseFilter } from "../search";
import { ErrorBanner, JsonBlock, Loading, useAsync } from "../ui";

export interface Column {
  label: string;
  cell: (item: Json) => ReactNode;
}

/** A paginated list of a service's records with a MongoDB-style filter box, each record
 * expandable to its whole document. */
export function QueryList({
  id,
  what,
  load,
  columns,
  keyOf,
  example,
  deps = [],
}: {
  id: string;
  what: string;
  load: (filter: Json, cursor: string | null) => Promise<Page<Json>>;
  columns: Column[];
  keyOf: (item: Json) => string;
  example: string;
  deps?: unknown[];
}) {
  const [typed, setTyped] = useState("");
  const [filter, setFilter] = useState("");
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [open, setOpen] = useState<string | null>(null);
  const page = useAsync(async () => load(parseFilter(filter) ?? {}, cursors[cursors.length - 1]), [filter, cursors, ...deps]);
  const items = page.data?.items ?? [];
  return (
    <div className="query-list">
      <form
        className="row"
        role="search"
        aria-label={`Filter ${what}`}
        onSubmit={(e) => {
          e.preventDefault();
          setFilter(typed);
          setCursors([null]);
        }}
      >
        <label htmlFor={`${id}-filter`}>Filter (MongoDB-style JSON)</label>
        <input id={`${id}-filter`} className="wide" value={typed} onChange={(e) => setTyped(e.target.value)} placeholder={example} spellCheck={false} />
        <button type="submit">Apply</button>
      </form>
      <ErrorBanner error={page.error} />
      {page.loading && <Loading what={what} />}
      {page.data && items.length === 0 && <p role="status">No {what} match.</p>}
      {items.length > 0 && (
        <table className="table">
          <caption className="visually-hidden">{what}</caption>
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c.label} scope="col">
                  {c.label}
                </th>
              ))}
              <th scope="col">
                <span className="visually-hidden">Details</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => {
              const key = keyOf(item);
              return (
                <FragmentRow key={key} open={open === key} colSpan={columns.length + 1} item={item}>
                  {columns.map((c) => (
                    <td key={c.label}>{c.cell(item)}</td>
                  ))}
                  <td>
                    <button type="button" aria-expanded={open === key} onClick={() => setOpen(open === key ? null : key)}>
                      {open === key ? "Hide" : "Details"}
                      <span className="visually-hidden"> of {key}</span>
                    </button>
                  </td>
                </FragmentRow>
              );
            })}
          </tbody>
        </table>
      )}
      <nav aria-label={`${what} pages`} className="pager">
        <button type="button" disabled={cursors.length < 2} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Previous page
        </button>
        <button type="button" disabled={!page.data?.next_cursor} onClick={() => setCursors((c) => [...c, page.data!.next_cursor])}>
          Next page
        </button>
      </nav>
    </div>
  );
}

function FragmentRow({ open, colSpan, item, children }: { open: boolean; colSpan: number; item: Json; children: ReactNode }) {
  return (
    <>
      <tr>{children}</tr>
      {open && (
        <tr className="details">
          <td colSpan={colSpan}>
            <JsonBlock value={item} label="The record" />
          </td>
        </tr>
      )}
    </>
  );
}
