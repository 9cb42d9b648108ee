import type { FastifyReply, FastifyRequest } from 'fastify';

/** Security headers on every response (CSP, nosniff, frame-ancestors). */
export function securityHeaders(req: FastifyRequest, reply: FastifyReply): void {
  const docs = req.url.startsWith('/api/docs');
  reply.header(
    'content-security-policy',
    docs
      ? "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
      : "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
  );
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  reply.header('referrer-policy', 'same-origin');
  reply.header('cross-origin-opener-policy', 'same-origin');
  reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=()');
  if (req.protocol === 'https') reply.header('strict-transport-security', 'max-age=31536000');
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF: a state-changing request authenticated by the session cookie must come from our own
 * origin (Origin, or Referer when a browser omits Origin). Bearer-token calls carry no ambient
 * credential and are exempt; a cookie-less login is refused only when it names another origin
 * (login CSRF). Returns a reason to refuse, or null.
 */
export function csrfProblem(
  req: FastifyRequest,
  publicUrl: string | undefined,
  mode: 'strict' | 'if-present' | 'none',
): string | null {
  if (SAFE.has(req.method) || mode === 'none') return null;
  const expected = publicUrl ? new URL(publicUrl).origin : `${req.protocol}://${req.headers.host}`;
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin !== 'null') {
    return origin === expected ? null : `Origin ${origin} is not ${expected}`;
  }
  if (mode === 'if-present') return null;
  const referer = req.headers.referer;
  if (typeof referer === 'string') {
    try {
      return new URL(referer).origin === expected ? null : 'Referer is from another origin';
    } catch {
      return 'Referer is not a URL';
    }
  }
  return 'A cookie-authenticated change needs an Origin header';
}
