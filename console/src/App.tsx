import { createContext, useContext, useEffect, useMemo, useRef, useState } from "react";

import { Api } from "./api";
import {
  authorizeUrl,
  finishCognitoSignIn,
  forgetSession,
  localSignIn,
  logoutUrl,
  refreshCognitoSession,
  restoreSession,
  ROLES,
  saveSession,
  type Role,
  type Session,
} from "./auth";
import type { ConsoleConfig } from "./config";
import { parseHash, type Route } from "./router";
import { AssetDbPage } from "./pages/AssetDbPage";
import { AssetPage } from "./pages/AssetPage";
import { ComponentsPage } from "./pages/ComponentsPage";
import { DbRegistryPage } from "./pages/DbRegistryPage";
import { SearchPage } from "./pages/SearchPage";
import { UploadPage } from "./pages/UploadPage";
import { ErrorBanner } from "./ui";

export interface Context {
  api: Api;
  session: Session;
  config: ConsoleConfig;
}

const ConsoleContext = createContext<Context | null>(null);

export function useConsole(): Context {
  const context = useContext(ConsoleContext);
  if (!context) throw new Error("useConsole outside the console");
  return context;
}

export const hasRole = (session: Session, role: Role) => session.roles.includes(role);

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseHash(location.hash));
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route;
}

const PAGES: { page: Route["page"]; href: string; label: string }[] = [
  { page: "search", href: "#/", label: "Search" },
  { page: "upload", href: "#/upload", label: "Upload" },
  { page: "assetdb", href: "#/assetdb", label: "Assets DB" },
  { page: "dbregistry", href: "#/dbregistry", label: "DB registry" },
  { page: "components", href: "#/components", label: "Components" },
];

const TITLES: Record<Route["page"], string> = {
  search: "Search assets",
  asset: "Asset",
  upload: "Upload",
  assetdb: "Assets DB",
  dbregistry: "Assets DB registry",
  components: "Components",
  "not-found": "Not found",
};

export function App({ config }: { config: ConsoleConfig }) {
  const [session, setSession] = useState<Session | null>(() => restoreSession());
  const [signInError, setSignInError] = useState<unknown>(null);
  const [finishing, setFinishing] = useState(() => config.auth.kind === "cognito" && ["code", "error"].some((k) => new URLSearchParams(location.search).has(k)));
  const route = useRoute();

  // Back from Cognito's hosted UI with ?code=&state=: exchange the code, then clean the address.
  useEffect(() => {
    if (config.auth.kind !== "cognito" || !finishing) return;
    const query = new URLSearchParams(location.search);
    finishCognitoSignIn(config.auth, query)
      .then((s) => {
        saveSession(s);
        setSession(s);
      })
      .catch(setSignInError)
      .finally(() => {
        history.replaceState(null, "", location.pathname + location.hash);
        setFinishing(false);
      });
  }, [config, finishing]);

  // Cognito's access tokens last an hour: renewed two minutes before they expire, while the
  // tab is open (the refresh token lives in memory only).
  useEffect(() => {
    if (config.auth.kind !== "cognito" || !session?.refreshToken) return;
    const auth = config.auth;
    const wait = Math.max(5_000, session.expiresAt - Date.now() - 120_000);
    const timer = setTimeout(() => {
      refreshCognitoSession(auth, session).then(
        (renewed) => {
          saveSession(renewed);
          setSession(renewed);
        },
        (error: unknown) => setSignInError(error),
      );
    }, wait);
    return () => clearTimeout(timer);
  }, [config, session]);

  const signOut = () => {
    forgetSession();
    setSession(null);
    if (config.auth.kind === "cognito") location.assign(logoutUrl(config.auth));
  };

  const api = useMemo(
    () =>
      new Api(
        config.api_url,
        () => session?.token ?? null,
        () => {
          // The token expired or was refused: sign in again.
          forgetSession();
          setSession(null);
          setSignInError(new Error("Your session has ended: sign in again."));
        },
      ),
    [config, session],
  );

  useEffect(() => {
    document.title = `${TITLES[route.page]} · Assets Registry`;
  }, [route.page]);

  // After a move to another page, focus goes to its content (the link that was clicked is
  // gone), so keyboard and screen reader users start there.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById("main")?.focus();
  }, [route.page, route.params.id]);

  if (finishing) return <p role="status">Signing in…</p>;
  if (!session) {
    return <SignIn config={config} error={signInError} onSignedIn={(s) => { saveSession(s); setSession(s); setSignInError(null); }} />;
  }

  return (
    <ConsoleContext.Provider value={{ api, session, config }}>
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>
        Skip to content
      </a>
      <header className="top">
        <a className="brand" href="#/">
          Assets Registry
        </a>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.page}>
                <a href={p.href} aria-current={route.page === p.page ? "page" : undefined}>
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>
            Signed in as <strong data-testid="user">{session.sub}</strong>{" "}
            <span className="roles">({session.roles.map((r) => r.replace("assets-", "")).join(", ") || "no role"})</span>
          </span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </ConsoleContext.Provider>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "search":
      return <SearchPage query={route.query} />;
    case "asset":
      return <AssetPage key={route.params.id} assetId={route.params.id} version={route.query.get("version") ?? undefined} />;
    case "upload":
      return <UploadPage forAsset={route.query.get("asset_id") ?? undefined} />;
    case "assetdb":
      return <AssetDbPage />;
    case "dbregistry":
      return <DbRegistryPage />;
    case "components":
      return <ComponentsPage />;
    default:
      return (
        <>
          <h1>Not found</h1>
          <p>
            This page does not exist. <a href="#/">Search assets</a>.
          </p>
        </>
      );
  }
}

function SignIn({ config, error, onSignedIn }: { config: ConsoleConfig; error: unknown; onSignedIn: (s: Session) => void }) {
  const [sub, setSub] = useState("");
  const [role, setRole] = useState<Role>("assets-writer");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const auth = config.auth;
  return (
    <main id="main" className="signin">
      <h1>Assets Registry</h1>
      <p>Find, inspect, upload and download models, datasets, policies and components.</p>
      <ErrorBanner error={failure ?? error} />
      {auth.kind === "cognito" && (
        <button type="button" className="primary" disabled={busy} onClick={async () => { setBusy(true); location.assign(await authorizeUrl(auth)); }}>
          Sign in
        </button>
      )}
      {auth.kind === "none" && <p role="alert">Sign-in is not configured for this deployment (config.json names no identity provider).</p>}
      {auth.kind === "local" && (
        <form
          aria-labelledby="local-title"
          onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            setFailure(null);
            try {
              onSignedIn(await localSignIn(config.api_url, sub.trim(), role));
            } catch (err) {
              setFailure(err);
            } finally {
              setBusy(false);
            }
          }}
        >
          <h2 id="local-title">Sign in to the local stack</h2>
          <p className="hint">
            The local stack mints tokens of its own issuer for any name (in AWS, this is Cognito's sign-in page).
          </p>
          <label htmlFor="signin-user">User name</label>
          <input id="signin-user" required pattern="[A-Za-z0-9._@\-]{1,64}" value={sub} onChange={(e) => setSub(e.target.value)} autoComplete="username" />
          <label htmlFor="signin-role">Role</label>
          <select id="signin-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <button type="submit" className="primary" disabled={busy}>
            Sign in
          </button>
        </form>
      )}
    </main>
  );
}
