import { useEffect, useState } from "react";

import { useConsole } from "../App";
import type { Facets, Json, Page } from "../api";
import { assetHref, href } from "../router";
import { buildFilter, FACET_LABELS, FACET_PATHS, stateFromQuery, stateToQuery, toggle, type SearchState } from "../search";
import { ErrorBanner, Loading, useAsync } from "../ui";

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
  const [cursors, setCursors] = useState<(string | null)[]>([null]); // the pages seen so far
  const key = query.toString();

  useEffect(() => {
    setText(state.text);
    setFilterText(state.filter);
    setCursors([null]);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  const go = (next: SearchState) => {
    location.hash = href("/", stateToQuery(next)).slice(1);
  };

  const cursor = cursors[cursors.length - 1];
  const results = useAsync<{ page: Page<Json>; facets: Facets; facetError: unknown }>(async () => {
    const filter = buildFilter(state);
    // The facets are a help: the results are shown even when counting them fails.
    let facetError: unknown = null;
    const [page, facets] = await Promise.all([
      api.search(filter, limit, cursor),
      api.facets(filter).catch((error: unknown) => {
        facetError = error;
        return { facets: {}, paths: {} } as Facets;
      }),
    ]);
    return { page, facets, facetError };
  }, [key, limit, cursor, api]);

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
          {results.data?.facetError ? <p className="hint">The facets could not be counted: {String((results.data.facetError as Error).message)}</p> : null}
          {results.data &&
            Object.entries(FACET_LABELS).map(([facet, label]) => {
              const values = results.data!.facets.facets[facet] ?? [];
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
                {results.data.page.items.length === 0
                  ? "No assets match."
                  : `Showing ${results.data.page.items.length} asset${results.data.page.items.length === 1 ? "" : "s"}${cursors.length > 1 ? ` (page ${cursors.length})` : ""}.`}
              </p>
              {results.data.page.items.length > 0 && (
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
                    {results.data.page.items.map((asset) => (
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
            <button type="button" disabled={!results.data?.page.next_cursor} onClick={() => setCursors((c) => [...c, results.data!.page.next_cursor])}>
              Next page
            </button>
            <label htmlFor="page-size">Per page</label>
            <select id="page-size" value={limit} onChange={(e) => { setLimit(Number(e.target.value)); setCursors([null]); }}>
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
