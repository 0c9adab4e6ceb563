// What the console reads at start from config.json beside index.html: where the API is and
// how to sign in. The local stack serves {"api_url": "", "auth": {"kind": "local"}}; the CDK
// stack writes the Cognito hosted UI's endpoints and the console's app client.

export interface CognitoAuth {
  kind: "cognito";
  authorize_url: string;
  token_url: string;
  logout_url: string;
  client_id: string;
  redirect_uri: string;
  scopes: string;
}

export type AuthConfig = { kind: "local" } | CognitoAuth | { kind: "none" };

export interface ConsoleConfig {
  api_url: string;
  auth: AuthConfig;
}

export class ConfigError extends Error {}

export function parseConfig(value: unknown): ConsoleConfig {
  if (typeof value !== "object" || value === null) {
    throw new ConfigError("config.json is not a JSON object.");
  }
  const raw = value as Record<string, unknown>;
  const api = typeof raw.api_url === "string" ? raw.api_url.replace(/\/+$/, "") : "";
  const auth = (raw.auth ?? { kind: "none" }) as Record<string, unknown>;
  if (auth.kind === "local" || auth.kind === "none") {
    return { api_url: api, auth: { kind: auth.kind } };
  }
  if (auth.kind === "cognito") {
    const fields = ["authorize_url", "token_url", "logout_url", "client_id", "redirect_uri"];
    for (const field of fields) {
      if (typeof auth[field] !== "string" || !auth[field]) {
        throw new ConfigError(`config.json's auth has no ${field}.`);
      }
    }
    return {
      api_url: api,
      auth: {
        kind: "cognito",
        authorize_url: String(auth.authorize_url),
        token_url: String(auth.token_url),
        logout_url: String(auth.logout_url),
        client_id: String(auth.client_id),
        redirect_uri: String(auth.redirect_uri),
        scopes: typeof auth.scopes === "string" ? auth.scopes : "openid email profile",
      },
    };
  }
  throw new ConfigError(`config.json names an unknown sign-in kind: ${String(auth.kind)}.`);
}

export async function loadConfig(fetcher: typeof fetch = fetch): Promise<ConsoleConfig> {
  let answer: Response;
  try {
    // beside index.html, wherever the page's own address is (/console or /console/)
    answer = await fetcher(`${import.meta.env.BASE_URL}config.json`, { cache: "no-store" });
  } catch {
    throw new ConfigError("The console's config.json could not be fetched.");
  }
  if (!answer.ok) {
    throw new ConfigError(`The console's config.json answered HTTP ${answer.status}.`);
  }
  return parseConfig(await answer.json());
}
