import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import * as client from 'openid-client';
import type { AppDeps } from '#src/app.ts';
import { AppError } from '#platform/errors.ts';
import { classifyIdentifier } from '#modules/parties/identifiers.ts';
import type { CitizenLanguage } from './citizens.model.ts';
import { type DemoIdp, demoOrigin, mountDemoIdp } from './demo-idp.ts';

export const SEU_CALLBACK_PATH = '/api/v1/seu/callback';

/** The OpenID provider the seu logs citizens in with, and this installation as its client. */
export type OidcSettings = {
  issuer: string;
  clientId: string;
  clientSecret: string | undefined;
  redirectUri: string;
  identifierClaim: string;
  /** The in-process demo provider: its requests go through app.inject, never the network. */
  local: FastifyInstance | null;
};

/** http is accepted only on the loopback interface (tests, a developer's machine) or in-process. */
function insecureAllowed(issuer: string, local: boolean): boolean {
  const u = new URL(issuer);
  if (u.protocol === 'https:') return false;
  return local || ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
}

/**
 * The provider for this installation: LLIGALL_OIDC_ISSUER when configured; otherwise, outside
 * production, the demo provider mounted at /idp. In production without an issuer: null (login
 * answers 503 OIDC_NOT_CONFIGURED).
 */
export function setUpOidc(app: FastifyInstance, deps: AppDeps): OidcSettings | null {
  const origin = deps.config.publicUrl ? new URL(deps.config.publicUrl).origin : demoOrigin(deps);
  const redirectUri = `${origin}${SEU_CALLBACK_PATH}`;
  const identifierClaim = deps.config.oidcIdentifierClaim;
  if (deps.config.oidcIssuer && deps.config.oidcClientId) {
    return {
      issuer: deps.config.oidcIssuer,
      clientId: deps.config.oidcClientId,
      clientSecret: deps.config.oidcClientSecret,
      redirectUri,
      identifierClaim,
      local: null,
    };
  }
  if (deps.config.env === 'production') return null;
  const demo: DemoIdp = mountDemoIdp(app, deps, redirectUri);
  return {
    issuer: demo.issuer,
    clientId: demo.clientId,
    clientSecret: demo.clientSecret,
    redirectUri,
    identifierClaim,
    local: app,
  };
}

/** A fetch that answers from the in-process provider (app.inject), with the issuer's Host. */
function injectFetch(app: FastifyInstance, issuer: string): client.CustomFetch {
  const host = new URL(issuer).host;
  return async (url, options) => {
    const u = new URL(url);
    const headers: Record<string, string> = {};
    new Headers(options.headers as ConstructorParameters<typeof Headers>[0]).forEach((v, k) => {
      headers[k] = v;
    });
    headers.host = host;
    const body = options.body;
    const res = await app.inject({
      method: (options.method ?? 'GET') as 'GET',
      url: `${u.pathname}${u.search}`,
      headers,
      ...(body === undefined || body === null
        ? {}
        : { payload: typeof body === 'string' ? body : String(body) }),
    });
    const out = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) out.append(k, String(one));
    }
    const empty = res.statusCode === 204 || res.statusCode === 304;
    return new Response(empty ? null : res.rawPayload, { status: res.statusCode, headers: out });
  };
}

const configs = new WeakMap<OidcSettings, client.Configuration>();

/** Discovery, once per process (retried on the next login if the provider could not be reached). */
export async function oidcConfiguration(settings: OidcSettings): Promise<client.Configuration> {
  const known = configs.get(settings);
  if (known) return known;
  const execute = insecureAllowed(settings.issuer, settings.local !== null)
    ? [client.allowInsecureRequests]
    : [];
  let config: client.Configuration;
  try {
    config = await client.discovery(
      new URL(settings.issuer),
      settings.clientId,
      settings.clientSecret,
      undefined,
      {
        execute,
        ...(settings.local ? { [client.customFetch]: injectFetch(settings.local, settings.issuer) } : {}),
      },
    );
  } catch (e) {
    throw new AppError('OIDC_LOGIN_FAILED', `The OpenID provider cannot be reached: ${(e as Error).message}`);
  }
  configs.set(settings, config);
  return config;
}

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export type AuthorizationStart = { url: URL; state: string; nonce: string; codeVerifier: string };

/** The provider's authorization URL for a new login (code flow, PKCE S256, state and nonce). */
export async function startAuthorization(
  settings: OidcSettings,
  uiLocale: string | null,
): Promise<AuthorizationStart> {
  const config = await oidcConfiguration(settings);
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const params: Record<string, string> = {
    redirect_uri: settings.redirectUri,
    scope: 'openid profile email',
    response_type: 'code',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  };
  if (uiLocale) params.ui_locales = uiLocale;
  return { url: client.buildAuthorizationUrl(config, params), state, nonce, codeVerifier };
}

export type OidcCitizen = {
  identifier: string;
  name: string;
  email: string | null;
  language: CitizenLanguage | null;
};

/** A NIF/NIE from the provider, normalised; some providers prefix the country ("ES", "IDCES-"). */
export function citizenIdentifier(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '')
    throw new AppError(
      'CITIZEN_IDENTIFIER_INVALID',
      'The identity provider did not send the citizen’s NIF/NIE: the seu cannot identify you',
    );
  const stripped = raw
    .trim()
    .toUpperCase()
    .replace(/^(IDC)?ES-?/, '');
  let c: ReturnType<typeof classifyIdentifier>;
  try {
    c = classifyIdentifier(stripped);
  } catch {
    throw new AppError(
      'CITIZEN_IDENTIFIER_INVALID',
      `The identity provider sent "${raw}", which is not a valid NIF/NIE: the seu cannot identify you`,
    );
  }
  if (c.type !== 'nif' && c.type !== 'nie' && c.type !== 'cif')
    throw new AppError('CITIZEN_IDENTIFIER_INVALID', `"${raw}" is not a NIF/NIE`);
  return c.normalized;
}

function languageOf(locale: unknown): CitizenLanguage | null {
  if (typeof locale !== 'string') return null;
  const l = locale.toLowerCase();
  if (l.startsWith('oc')) return 'oc-aranes';
  if (l.startsWith('es')) return 'es';
  if (l.startsWith('ca')) return 'ca';
  return null;
}

/**
 * Exchanges the code (PKCE verifier, state and nonce checked; the ID token's signature, issuer,
 * audience and times validated by openid-client) and reads who the citizen is: the identifier
 * claim from the ID token, or from userinfo when the ID token lacks it.
 */
export async function completeAuthorization(
  settings: OidcSettings,
  callbackQuery: Record<string, string>,
  checks: { state: string; nonce: string; codeVerifier: string },
): Promise<OidcCitizen> {
  const config = await oidcConfiguration(settings);
  const current = new URL(settings.redirectUri);
  for (const [k, v] of Object.entries(callbackQuery)) current.searchParams.set(k, v);
  let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  try {
    tokens = await client.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: checks.codeVerifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      idTokenExpected: true,
    });
  } catch (e) {
    const err = e as Error & { error?: string; error_description?: string };
    throw new AppError(
      'OIDC_LOGIN_FAILED',
      `The login was not completed: ${err.error_description ?? err.error ?? err.message}`,
    );
  }
  const claims: Record<string, unknown> = { ...(tokens.claims() ?? {}) };
  if (
    claims[settings.identifierClaim] === undefined &&
    tokens.access_token &&
    typeof claims.sub === 'string'
  ) {
    try {
      Object.assign(claims, await client.fetchUserInfo(config, tokens.access_token, claims.sub));
    } catch (e) {
      throw new AppError(
        'OIDC_LOGIN_FAILED',
        `The provider's user data could not be read: ${(e as Error).message}`,
      );
    }
  }
  const identifier = citizenIdentifier(claims[settings.identifierClaim]);
  const name =
    (typeof claims.name === 'string' && claims.name.trim()) ||
    [claims.given_name, claims.family_name]
      .filter((x) => typeof x === 'string')
      .join(' ')
      .trim() ||
    identifier;
  const email = typeof claims.email === 'string' && claims.email.includes('@') ? claims.email : null;
  return { identifier, name: name.slice(0, 200), email, language: languageOf(claims.locale) };
}
