import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";

import { ApiError } from "./api";

export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** An error as the API said it: a sentence, in an alert region screen readers announce. */
export function ErrorBanner({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  if (!error) return null;
  const code = error instanceof ApiError && error.status ? ` (HTTP ${error.status} ${error.code})` : "";
  return (
    <div className="error" role="alert">
      <strong>Error:</strong> <span className="error-message">{messageOf(error)}</span>
      <span className="error-code">{code}</span>
      {onDismiss && (
        <button type="button" className="link" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status">
      Loading {what}…
    </p>
  );
}

export function Section({ id, title, children, actions }: { id: string; title: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="card" aria-labelledby={`${id}-title`} id={id}>
      <div className="card-head">
        <h2 id={`${id}-title`}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

export function JsonBlock({ value, label }: { value: unknown; label: string }) {
  return (
    <pre className="json" tabIndex={0} aria-label={label}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

export function ProgressBar({ value, label }: { value: number | null; label: string }) {
  return value === null ? (
    <progress aria-label={label} />
  ) : (
    <progress aria-label={label} max={100} value={value}>
      {value}%
    </progress>
  );
}

export interface Async<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Load once per change of ``deps``; a later answer never overwrites a newer one. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({ data: null, error: null, loading: true });
  const generation = useRef(0);
  const [tick, setTick] = useState(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  useEffect(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    run().then(
      (data) => mine === generation.current && setState({ data, error: null, loading: false }),
      (error: unknown) => mine === generation.current && setState({ data: null, error, loading: false }),
    );
  }, [run, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** Run an action (a button's), keeping its error and whether it is running. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: () => setError(null) };
}

/** Start a browser download of a URL the API handed out (a presigned GET, the ZIP stream). */
export function startDownload(url: string): void {
  const protocol = new URL(url, location.href).protocol;
  if (protocol !== "https:" && protocol !== "http:") {
    throw new Error(`The download link is not a web address (${protocol}).`);
  }
  const link = document.createElement("a");
  link.href = url;
  link.target = "_blank"; // an external file opens beside the console, never in its place
  link.rel = "noopener";
  link.download = "";
  document.body.appendChild(link);
  link.click();
  link.remove();
}
