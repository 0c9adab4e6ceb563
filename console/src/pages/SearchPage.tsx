import { useEffect, useState } from "react";

import { useConsole } from "../App";
import type { Facets, Json, Page } from "../api";
import { assetHref, href } from "../router";
import { buildFilter, FACET_LABELS, FACET_PATHS, FilterError, stateFromQuery, stateToQuery, toggle, type SearchState } from "../search";
import { ErrorBanner, Loading, messageOf, useAsync } from "../ui";

const PAGE_SIZES = [10, 25, 50, 100];

function typesOf(asset: Json): string {
  const profiles = (asset.profiles as Json[] | undefined) ?? [];
  return [...new Set(profiles.map((p) => `${p.asset_type}/${p.asset_sub_type}`))].join(", ");
}

function tagsOf(asset: Json): string[] {
  const profiles = (asset.profiles as Json[] | undefined) ?? [];
  return [...new Set(profiles.flatMap((p) => (p.asset_tags as string[] | undefined) ?? []))];
}

export function SearchPage({ query }: { query: URLSearchParams }) {
  const { api } = useConsole();
  const state = stateFromQuery(query);
  const [text, setText] = useState(state.text);
  const [filterText, setFilterText] = useState(state.filter);
  const [limit, setLimit] = useState(25);
  // The pages seen so far, for this search only: a new search starts at its first page in
  // the same render (no request goes out with the previous search's cursor).
  const key = query.toString();
  const [paging, setPaging] = useState<{ key: string; cursors: (string | null)[] }>({ key, cursors: [null] });
  const cursors = paging.key === key ? paging.cursors : [null];
  const setCursors = (next: (c: (string | null)[]) => (string | null)[]) => setPaging({ key, cursors: next(cursors) });

  useEffect(() => {
    setText(state.text);
    setFilterText(state.filter);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  const go = (next: SearchState) => {
    location.hash = href("/", stateToQuery(next)).slice(1);
  };

  const cursor = cursors[cursors.length - 1];
  const results = useAsync<Page<Json>>(() => api.search(buildFilter(state), limit, cursor), [key, limit, cursor, api]);
  // Counted once per search, not per page: the facets are a help, and the results are shown
  // even when counting them fails.
  const counted = useAsync<Facets>(async () => {
    try {
      return await api.facets(buildFilter(state));
    } catch (error) {
      if (error instanceof FilterError) return { facets: {}, paths: {} };
      throw error;
    }
  }, [key, api]);
  const facets = counted.data?.facets ?? {};

  return (
    <>
      <h1>Search assets</h1>
      <form
        role="search"
        className="search"
        onSubmit={(e) => {
          e.preventDefault();
          go({ ...state, text, filter: filterText });
        }}
      >
        <label htmlFor="search-text">Search names, descriptions and tags</label>
        <div className="row">
          <input id="search-text" type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="e.g. llama, vision, sample" />
          <button type="submit" className="primary">
            Search
          </button>
        </div>
        <details open={Boolean(state.filter)}>
          <summary>Filter (MongoDB-style)</summary>
          <label htmlFor="search-filter">A JSON filter of the allowed operators, combined with the search</label>
          <textarea
            id="search-filter"
            rows={3}
            spellCheck={false}
            value={filterText}
            onChange={(e) => setFilterText(e.target.value)}
            placeholder='{"profiles.asset_type": "model", "created_at": {"$gte": "2026-01-01"}}'
          />
        </details>
      </form>
      <div className="search-body">
        <aside aria-label="Facets" className="facets">
          {counted.error ? <p className="hint">The facets could not be counted: {messageOf(counted.error)}</p> : null}
          {counted.data &&
            Object.entries(FACET_LABELS).map(([facet, label]) => {
              const values = facets[facet] ?? [];
              const chosen = state.chosen[facet] ?? [];
              return (
                <fieldset key={facet}>
                  <legend>{label}</legend>
                  {values.length === 0 && <p className="hint">None</p>}
                  {values.map(({ value, count }) => {
                    const id = `facet-${facet}-${String(value)}`;
                    return (
                      <div key={String(value)} className="facet">
                        <input id={id} type="checkbox" checked={chosen.includes(String(value))} onChange={() => go(toggle(state, facet, String(value)))} />
                        <label htmlFor={id}>
                          {String(value)} <span className="count">{count}</span>
                        </label>
                      </div>
                    );
                  })}
                  {chosen
                    .filter((c) => !values.some((v) => String(v.value) === c))
                    .map((c) => (
                      <div key={c} className="facet">
                        <input id={`facet-${facet}-${c}`} type="checkbox" checked onChange={() => go(toggle(state, facet, c))} />
                        <label htmlFor={`facet-${facet}-${c}`}>{c}</label>
                      </div>
                    ))}
                </fieldset>
              );
            })}
        </aside>
        <section className="results" aria-labelledby="results-title">
          <h2 id="results-title" className="visually-hidden">
            Results
          </h2>
          <ErrorBanner error={results.error} />
          {results.loading && <Loading what="assets" />}
          {results.data && (
            <>
              <p role="status" className="summary">
                {results.data.items.length === 0
                  ? "No assets match."
                  : `Showing ${results.data.items.length} asset${results.data.items.length === 1 ? "" : "s"}${cursors.length > 1 ? ` (page ${cursors.length})` : ""}.`}
              </p>
              {results.data.items.length > 0 && (
                <table className="table">
                  <thead>
                    <tr>
                      <th scope="col">Asset</th>
                      <th scope="col">Version</th>
                      <th scope="col">Type</th>
                      <th scope="col">Tags</th>
                      <th scope="col">Owner</th>
                      <th scope="col">Visibility</th>
                    </tr>
                  </thead>
                  <tbody>
                    {results.data.items.map((asset) => (
                      <tr key={String(asset.asset_id)}>
                        <td>
                          <a href={assetHref(String(asset.asset_id))}>{String(asset.asset_id)}</a>
                          {typeof asset.asset_brief_description === "string" && <div className="hint">{asset.asset_brief_description}</div>}
                        </td>
                        <td>{String(asset.asset_version)}</td>
                        <td>{typesOf(asset)}</td>
                        <td>
                          {tagsOf(asset).map((t) => (
                            <span key={t} className="tag">
                              {t}
                            </span>
                          ))}
                        </td>
                        <td>{String(asset.created_by ?? "—")}</td>
                        <td>{String(asset.visibility ?? "—")}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </>
          )}
          <nav aria-label="Result pages" className="pager">
            <button type="button" disabled={cursors.length < 2} onClick={() => setCursors((c) => c.slice(0, -1))}>
              Previous page
            </button>
            <button type="button" disabled={!results.data?.next_cursor} onClick={() => setCursors((c) => [...c, results.data!.next_cursor])}>
              Next page
            </button>
            <label htmlFor="page-size">Per page</label>
            <select id="page-size" value={limit} onChange={(e) => { setLimit(Number(e.target.value)); setCursors(() => [null]); }}>
              {PAGE_SIZES.map((n) => (
                <option key={n}>{n}</option>
              ))}
            </select>
          </nav>
        </section>
      </div>
      <p className="hint">
        Facets count the {Object.keys(FACET_PATHS).length} fields over every asset the search matches (the 20 most frequent values each).
      </p>
    </>
  );
}
