import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Provider from 'oidc-provider';
import type { AppDeps } from '#src/app.ts';
import { type DemoCitizen, DEMO_CITIZENS, demoCitizenName } from './demo-citizens.ts';

/** Where the demo OpenID provider is mounted (its issuer is <public URL>/idp). */
export const DEMO_IDP_PATH = '/idp';
export const DEMO_CLIENT_ID = 'lligall-seu-demo';

export type DemoIdp = { issuer: string; clientId: string; clientSecret: string; redirectUri: string };

type PageLang = 'ca' | 'es' | 'oc';

/** The demo login page's strings (Catalan, Spanish, Aranese). */
const STRINGS: Record<
  PageLang,
  Record<'title' | 'intro' | 'legend' | 'submit' | 'noEmail' | 'notice', string>
> = {
  ca: {
    title: 'Identificació de demostració',
    intro: 'Aquest proveïdor OpenID només existeix en mode de demostració: no comprova cap identitat real.',
    legend: 'Trieu la persona fictícia amb què voleu entrar a la seu',
    submit: 'Entra',
    noEmail: 'sense correu electrònic',
    notice: 'Persones i NIF inventats.',
  },
  es: {
    title: 'Identificación de demostración',
    intro: 'Este proveedor OpenID solo existe en modo de demostración: no comprueba ninguna identidad real.',
    legend: 'Elija la persona ficticia con la que quiere entrar en la sede',
    submit: 'Entrar',
    noEmail: 'sin correo electrónico',
    notice: 'Personas y NIF inventados.',
  },
  oc: {
    title: 'Identificacion de demostracion',
    intro: 'Aguest provedor OpenID sonque existís en mòde de demostracion: non verifique cap identitat reau.',
    legend: 'Causitz era persona fictícia damb era quau voletz dintrar ena sèu',
    submit: 'Dintrar',
    noEmail: 'sense corrèu electronic',
    notice: 'Persones e NIF inventadi.',
  },
};

function pageLang(uiLocales: unknown, accept: string | undefined): PageLang {
  const wanted = `${typeof uiLocales === 'string' ? uiLocales : ''} ${accept ?? ''}`.toLowerCase();
  for (const tag of wanted.split(/[\s,;]+/)) {
    if (tag.startsWith('oc')) return 'oc';
    if (tag.startsWith('es')) return 'es';
    if (tag.startsWith('ca')) return 'ca';
  }
  return 'ca';
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function loginPage(lang: PageLang, uid: string): string {
  const t = STRINGS[lang];
  const options = DEMO_CITIZENS.map(
    (
      c,
      i,
    ) => `<li><input type="radio" name="citizen" id="c${i}" value="${esc(c.sub)}"${i === 0 ? ' checked' : ''} required>
<label for="c${i}">${esc(demoCitizenName(c))} — NIF ${esc(c.identifier)} — ${esc(c.email ?? t.noEmail)}</label></li>`,
  ).join('\n');
  return `<!DOCTYPE html>
<html lang="${lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>${esc(t.title)}</title></head>
<body><main>
<h1>${esc(t.title)}</h1>
<p>${esc(t.intro)}</p>
<form method="post" action="${DEMO_IDP_PATH}/interaction/${esc(uid)}/login">
<fieldset><legend>${esc(t.legend)}</legend>
<ul>
${options}
</ul></fieldset>
<button type="submit">${esc(t.submit)}</button>
</form>
<p><small>${esc(t.notice)}</small></p>
</main></body></html>`;
}

function claimsOf(c: DemoCitizen, identifierClaim: string): Record<string, unknown> {
  return {
    sub: c.sub,
    [identifierClaim]: c.identifier,
    name: demoCitizenName(c),
    given_name: c.givenName,
    family_name: c.familyName,
    locale: c.language,
    ...(c.email ? { email: c.email, email_verified: true } : {}),
  };
}

type Payload = Record<string, unknown> & {
  grantId?: string;
  uid?: string;
  userCode?: string;
  consumed?: number;
};

/**
 * The demo provider's storage: a Map per provider instance (one process; lost on restart, which a
 * demo can afford). oidc-provider's own in-memory adapter is shared by every instance of a process.
 */
function memoryAdapter() {
  const store = new Map<string, { payload: Payload; expiresAt: number }>();
  const live = (key: string): Payload | undefined => {
    const e = store.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return e.payload;
  };
  return class DemoAdapter {
    name: string;
    constructor(name: string) {
      this.name = name;
    }
    key(id: string) {
      return `${this.name}:${id}`;
    }
    async upsert(id: string, payload: Payload, expiresIn?: number) {
      const expiresAt =
        typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY;
      store.set(this.key(id), { payload, expiresAt });
    }
    async find(id: string) {
      return live(this.key(id));
    }
    async findByUid(uid: string) {
      for (const [k, e] of store) if (k.startsWith(`${this.name}:`) && e.payload.uid === uid) return live(k);
      return undefined;
    }
    async findByUserCode(userCode: string) {
      for (const [k, e] of store)
        if (k.startsWith(`${this.name}:`) && e.payload.userCode === userCode) return live(k);
      return undefined;
    }
    async consume(id: string) {
      const p = live(this.key(id));
      if (p) p.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [k, e] of store) if (e.payload.grantId === grantId) store.delete(k);
    }
  };
}

/** The oidc-provider instance: an EC P-256 signing key made at start (demo only), in-memory storage. */
function createProvider(
  issuer: string,
  clientSecret: string,
  redirectUri: string,
  identifierClaim: string,
): Provider {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'ES256', kid: 'demo' };
  const provider = new Provider(issuer, {
    adapter: memoryAdapter(),
    clients: [
      {
        client_id: DEMO_CLIENT_ID,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    pkce: { required: () => true },
    claims: {
      openid: ['sub', identifierClaim],
      profile: ['name', 'given_name', 'family_name', 'locale'],
      email: ['email', 'email_verified'],
    },
    // The ID token carries the claims of the granted scopes (the NIF among them).
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: {
      url: (_ctx: unknown, interaction: { uid: string }) => `${DEMO_IDP_PATH}/interaction/${interaction.uid}`,
    },
    async findAccount(_ctx: unknown, sub: string) {
      const c = DEMO_CITIZENS.find((x) => x.sub === sub);
      if (!c) return undefined;
      return { accountId: sub, claims: async () => claimsOf(c, identifierClaim) };
    },
    // The seu is the provider's only, first-party client: no consent screen.
    async loadExistingGrant(ctx: {
      oidc: { client: { clientId: string }; session: { accountId: string }; provider: Provider };
    }) {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid profile email');
      await grant.save();
      return grant;
    },
    ttl: {
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      AccessToken: 600,
      IdToken: 600,
      AuthorizationCode: 60,
    },
    async renderError(ctx: { type: string; body: string }, out: Record<string, string>) {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Error</title></head><body><main><h1>${esc(
        out.error ?? 'error',
      )}</h1><p>${esc(out.error_description ?? '')}</p></main></body></html>`;
    },
  });
  provider.proxy = process.env.LLIGALL_TRUST_PROXY === 'true';
  return provider;
}

/** The public origin the demo provider and its client use (LLIGALL_PUBLIC_URL, or localhost:PORT). */
export function demoOrigin(deps: AppDeps): string {
  return deps.config.publicUrl
    ? new URL(deps.config.publicUrl).origin
    : `http://localhost:${deps.config.port || 8080}`;
}

/**
 * Mounts the demo OpenID provider (oidc-provider, a Koa app) under /idp: its own routes get the
 * raw request (no body parsing by Fastify), and the login page lets you pick a demo citizen.
 * Demo, development and test only: refuses to run in production.
 */
export function mountDemoIdp(app: FastifyInstance, deps: AppDeps, redirectUri: string): DemoIdp {
  if (deps.config.env === 'production') throw new Error('The demo OpenID provider never runs in production');
  const issuer = `${demoOrigin(deps)}${DEMO_IDP_PATH}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const identifierClaim = deps.config.oidcIdentifierClaim;
  // Built on first use: most servers (tests included) never log a citizen in.
  let built: Provider | null = null;
  const provider = (): Provider => {
    built ??= createProvider(issuer, clientSecret, redirectUri, identifierClaim);
    return built;
  };

  // The provider's own endpoints: the raw request and response, the body left unread for Koa.
  app.register(async (idp) => {
    idp.removeAllContentTypeParsers();
    idp.addContentTypeParser('*', (_req, _payload, done) => done(null));
    const handler = (
      req: Parameters<ReturnType<Provider['callback']>>[0],
      res: Parameters<ReturnType<Provider['callback']>>[1],
    ) => provider().callback()(req, res);
    const pass = async (req: FastifyRequest, reply: FastifyReply) => {
      reply.hijack();
      const raw = req.raw as typeof req.raw & { originalUrl?: string };
      raw.originalUrl = raw.url;
      raw.url = (raw.url ?? '/').slice(DEMO_IDP_PATH.length) || '/';
      await handler(raw, reply.raw);
    };
    const opts = { schema: { hide: true }, config: { rateLimit: { max: 120, timeWindow: '1 minute' } } };
    idp.all(DEMO_IDP_PATH, opts, pass);
    idp.all(`${DEMO_IDP_PATH}/*`, opts, pass);
  });

  // The login page: pick a demo citizen.
  app.register(async (pages) => {
    pages.removeAllContentTypeParsers();
    pages.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 4096 },
      (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
    );
    pages.get(
      `${DEMO_IDP_PATH}/interaction/:uid`,
      { schema: { hide: true }, config: { rateLimit: { max: 60, timeWindow: '1 minute' } } },
      async (req, reply) => {
        const details = await provider().interactionDetails(req.raw, reply.raw);
        if (details.prompt.name !== 'login') {
          // Consent is granted by loadExistingGrant; anything else finishes without a change.
          const to = await provider().interactionResult(
            req.raw,
            reply.raw,
            {},
            { mergeWithLastSubmission: true },
          );
          return reply.redirect(to, 303);
        }
        const lang = pageLang(details.params.ui_locales, req.headers['accept-language']);
        return reply
          .type('text/html; charset=utf-8')
          .header('cache-control', 'no-store')
          .send(loginPage(lang, details.uid));
      },
    );
    pages.post(
      `${DEMO_IDP_PATH}/interaction/:uid/login`,
      { schema: { hide: true }, config: { rateLimit: { max: 30, timeWindow: '1 minute' } } },
      async (req, reply) => {
        const details = await provider().interactionDetails(req.raw, reply.raw);
        const chosen = (req.body as Record<string, string> | undefined)?.citizen;
        const c = DEMO_CITIZENS.find((x) => x.sub === chosen);
        const result = c
          ? { login: { accountId: c.sub } }
          : { error: 'access_denied', error_description: 'No demo citizen chosen' };
        if (details.prompt.name !== 'login') return reply.status(400).send();
        const to = await provider().interactionResult(req.raw, reply.raw, result, {
          mergeWithLastSubmission: false,
        });
        return reply.redirect(to, 303);
      },
    );
  });

  return { issuer, clientId: DEMO_CLIENT_ID, clientSecret, redirectUri };
}
