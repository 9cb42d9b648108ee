import path from 'node:path';

/** Typed configuration, read once from the environment at boot. */
export type Config = {
  /** `production` disables every demo seed; `demo` seeds the demo entity on the embedded database; `test` is for the test suite. LLIGALL_ENV */
  env: 'production' | 'demo' | 'development' | 'test';
  /** Runtime state of the embedded installation: db/, blobs/, keys/. LLIGALL_DATA_DIR, default ./var */
  dataDir: string;
  /** PostgreSQL URL the server connects with (the application role). Unset = embedded PGlite in dataDir/db. DATABASE_URL */
  databaseUrl: string | undefined;
  /** PostgreSQL URL of the owner role, used by migrations. DATABASE_OWNER_URL, default DATABASE_URL */
  databaseOwnerUrl: string | undefined;
  /** Name of the NOSUPERUSER NOBYPASSRLS role that tenant transactions run as. LLIGALL_DB_APP_ROLE */
  dbAppRole: string;
  /**
   * shared_buffers of the embedded database, in MB. LLIGALL_PGLITE_SHARED_BUFFERS_MB, default 128
   * (PostgreSQL's). Every start of the embedded database clears this much memory (about 1 s for
   * 128 MB): the test suite, which starts it hundreds of times, uses 16.
   */
  pgliteSharedBuffersMb: number;
  /** Port of the HTTP server. PORT, default 8080 */
  port: number;
  /** Interface to listen on. HOST, default 0.0.0.0 */
  host: string;
  /** Public origin, used for CSRF origin checks and links (e.g. https://expedients.example.org). LLIGALL_PUBLIC_URL */
  publicUrl: string | undefined;
  /** Largest accepted upload, in MiB. LLIGALL_MAX_UPLOAD_MB, default 1024 */
  maxUploadBytes: number;
  /**
   * File holding the master key that encrypts private keys and seals audit checkpoints; never in
   * the database. LLIGALL_MASTER_KEY_FILE, default <dataDir>/keys/master.key (created, owner-only,
   * when missing). Production installations should keep it outside the data directory and its backups.
   */
  masterKeyFile: string;
  /** Minutes of inactivity after which a session ends (ENS). LLIGALL_SESSION_IDLE_MINUTES, default 30 */
  sessionIdleMinutes: number;
  /** Hours after which a session ends whatever its activity. LLIGALL_SESSION_MAX_HOURS, default 12 */
  sessionMaxHours: number;
  /** Wrong passwords in a row before an account is locked for a while. LLIGALL_LOGIN_MAX_FAILURES, default 5 */
  loginMaxFailures: number;
  /** Minutes an account stays locked after too many failures (doubles on each further lock). LLIGALL_LOGIN_LOCK_MINUTES, default 15 */
  loginLockMinutes: number;
  /** Largest DESA'L document a MUX transaction may bring, in MiB. LLIGALL_MUX_MAX_ATTACHMENT_MB, default 100 */
  muxMaxAttachmentBytes: number;
  /**
   * Where MUX attachments (DESA'L documents) are fetched from: a local directory holding one file
   * per document UUID (tests, demo, an export of DESA'L), LLIGALL_DESAL_DIR; or DESA'L's download
   * address with `{uuid}` in it, LLIGALL_DESAL_URL (e.g. https://desal.example/documents/{uuid}/fitxer).
   * Neither set: attachments stay pending with a clear error.
   */
  desalDir: string | undefined;
  desalUrl: string | undefined;
  /**
   * SMTP server that sends e-mail (alerts of notifications, filing confirmations):
   * `smtp://[user:password@]host[:port]` (STARTTLS when the server offers it) or `smtps://…` (TLS
   * from the start, port 465). LLIGALL_SMTP_URL; required in production. Unset elsewhere: each
   * message is written as an .eml file under <dataDir>/mail/ instead of being sent.
   */
  smtpUrl: string | undefined;
  /** Sender of every message: `Name <address>` or `address`. LLIGALL_MAIL_FROM; required in production, default `Lligall <no-reply@localhost>` elsewhere */
  mailFrom: string;
  /**
   * The seu's OpenID Connect provider (the AOC's VÀLid in production): its issuer URL, this
   * installation's client id and secret. LLIGALL_OIDC_ISSUER, LLIGALL_OIDC_CLIENT_ID,
   * LLIGALL_OIDC_CLIENT_SECRET. Unset outside production: the in-process demo provider at /idp.
   * The redirect URI is <LLIGALL_PUBLIC_URL>/api/v1/seu/callback.
   */
  oidcIssuer: string | undefined;
  oidcClientId: string | undefined;
  oidcClientSecret: string | undefined;
  /**
   * The ID token (or userinfo) claim holding the citizen's NIF/NIE. LLIGALL_OIDC_IDENTIFIER_CLAIM,
   * default `identifier` (the field VÀLid's user data carries the document number in).
   */
  oidcIdentifierClaim: string;
  /** Log level for pino. LOG_LEVEL, default info */
  logLevel: string;
};

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

const ENVS = ['production', 'demo', 'development', 'test'] as const;

/** Reads and validates the configuration; throws ConfigError listing every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const problems: string[] = [];
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return def;
    }
    return n;
  };
  const url = (name: string): string | undefined => {
    const raw = env[name];
    if (!raw) return undefined;
    try {
      const u = new URL(raw);
      if (name.startsWith('DATABASE') && !['postgres:', 'postgresql:'].includes(u.protocol)) {
        problems.push(`${name} must be a postgres:// URL`);
      }
      if (name === 'LLIGALL_PUBLIC_URL' && !['http:', 'https:'].includes(u.protocol)) {
        problems.push(`${name} must be an http(s) URL`);
      }
    } catch {
      problems.push(`${name} is not a valid URL`);
    }
    return raw;
  };
  const rawEnv = env.LLIGALL_ENV || 'development';
  if (!(ENVS as readonly string[]).includes(rawEnv))
    problems.push(`LLIGALL_ENV must be one of ${ENVS.join(', ')}`);
  const dataDir = path.resolve(env.LLIGALL_DATA_DIR || 'var');
  const databaseUrl = url('DATABASE_URL');
  const appRole = env.LLIGALL_DB_APP_ROLE || 'lligall_app';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(appRole))
    problems.push('LLIGALL_DB_APP_ROLE must be a plain lower-case identifier');
  const config: Config = {
    env: rawEnv as Config['env'],
    dataDir,
    databaseUrl,
    databaseOwnerUrl: url('DATABASE_OWNER_URL') ?? databaseUrl,
    dbAppRole: appRole,
    pgliteSharedBuffersMb: int('LLIGALL_PGLITE_SHARED_BUFFERS_MB', 128, 1, 4096),
    port: int('PORT', 8080, 0, 65535),
    host: env.HOST || '0.0.0.0',
    publicUrl: url('LLIGALL_PUBLIC_URL'),
    maxUploadBytes: int('LLIGALL_MAX_UPLOAD_MB', 1024, 1, 10240) * 1024 * 1024,
    masterKeyFile: path.resolve(env.LLIGALL_MASTER_KEY_FILE || path.join(dataDir, 'keys', 'master.key')),
    sessionIdleMinutes: int('LLIGALL_SESSION_IDLE_MINUTES', 30, 1, 1440),
    sessionMaxHours: int('LLIGALL_SESSION_MAX_HOURS', 12, 1, 168),
    loginMaxFailures: int('LLIGALL_LOGIN_MAX_FAILURES', 5, 1, 100),
    loginLockMinutes: int('LLIGALL_LOGIN_LOCK_MINUTES', 15, 1, 1440),
    muxMaxAttachmentBytes: int('LLIGALL_MUX_MAX_ATTACHMENT_MB', 100, 1, 10240) * 1024 * 1024,
    desalDir: env.LLIGALL_DESAL_DIR ? path.resolve(env.LLIGALL_DESAL_DIR) : undefined,
    desalUrl: desalUrl(env.LLIGALL_DESAL_URL, problems),
    smtpUrl: smtpUrl(env.LLIGALL_SMTP_URL, rawEnv === 'production', problems),
    mailFrom: mailFrom(env.LLIGALL_MAIL_FROM, rawEnv === 'production', problems),
    oidcIssuer: url('LLIGALL_OIDC_ISSUER'),
    oidcClientId: env.LLIGALL_OIDC_CLIENT_ID || undefined,
    oidcClientSecret: env.LLIGALL_OIDC_CLIENT_SECRET || undefined,
    oidcIdentifierClaim: env.LLIGALL_OIDC_IDENTIFIER_CLAIM || 'identifier',
    logLevel: env.LOG_LEVEL || 'info',
    ...overrides,
  };
  if (config.oidcIssuer?.startsWith('http:')) {
    let host = '';
    try {
      host = new URL(config.oidcIssuer).hostname;
    } catch {}
    if (!['localhost', '127.0.0.1', '[::1]'].includes(host))
      problems.push('LLIGALL_OIDC_ISSUER must be an https URL (http only on the loopback interface)');
  }
  if (config.oidcIssuer && !config.oidcClientId)
    problems.push(
      'LLIGALL_OIDC_ISSUER needs LLIGALL_OIDC_CLIENT_ID (and usually LLIGALL_OIDC_CLIENT_SECRET)',
    );
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(config.oidcIdentifierClaim))
    problems.push('LLIGALL_OIDC_IDENTIFIER_CLAIM must be a claim name');
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** LLIGALL_DESAL_URL: an http(s) address with `{uuid}` where the document's UUID goes. */
function desalUrl(raw: string | undefined, problems: string[]): string | undefined {
  if (!raw) return undefined;
  let ok = false;
  try {
    ok = ['http:', 'https:'].includes(new URL(raw.replace('{uuid}', 'x')).protocol);
  } catch {
    ok = false;
  }
  if (!ok || !raw.includes('{uuid}'))
    problems.push('LLIGALL_DESAL_URL must be an http(s) URL containing {uuid}');
  return raw;
}

/** LLIGALL_SMTP_URL: smtp:// or smtps:// with a host; required in production (no .eml fallback there). */
function smtpUrl(raw: string | undefined, production: boolean, problems: string[]): string | undefined {
  if (!raw) {
    if (production) problems.push('LLIGALL_SMTP_URL is required in production (smtp:// or smtps:// URL)');
    return undefined;
  }
  let ok = false;
  try {
    const u = new URL(raw);
    ok = ['smtp:', 'smtps:'].includes(u.protocol) && u.hostname !== '';
  } catch {
    ok = false;
  }
  // Never echo the URL: it may carry the SMTP password.
  if (!ok) problems.push('LLIGALL_SMTP_URL must be an smtp:// or smtps:// URL with a host');
  return raw;
}

/** The default sender outside production (a real server would refuse a localhost sender). */
export const DEFAULT_MAIL_FROM = 'Lligall <no-reply@localhost>';

/** LLIGALL_MAIL_FROM: `address` or `Display name <address>`. */
function mailFrom(raw: string | undefined, production: boolean, problems: string[]): string {
  if (!raw) {
    if (production)
      problems.push('LLIGALL_MAIL_FROM is required in production (e.g. "Ajuntament <no-reply@example.cat>")');
    return DEFAULT_MAIL_FROM;
  }
  if (!/^(?:[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/.test(raw.trim()))
    problems.push(`LLIGALL_MAIL_FROM must be an address or "Name <address>" (got "${raw}")`);
  return raw.trim();
}

/** True when the database is the embedded PGlite in the data directory. */
export function isEmbedded(config: Config): boolean {
  return !config.databaseUrl;
}
