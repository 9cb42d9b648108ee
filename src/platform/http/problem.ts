import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode, statusOf } from '../errors.ts';

/** An RFC 9457 problem+json body with Lligall's stable `code`. */
export type Problem = {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  errors?: unknown[];
  [k: string]: unknown;
};

export function problemFor(code: ErrorCode, detail: string, extra: Record<string, unknown> = {}): Problem {
  const status = statusOf(code);
  return { type: `urn:lligall:problem:${code}`, title: code, status, code, detail, ...extra };
}

/** Maps every error once to a problem+json response (CONVENTIONS 5). */
export function toProblem(err: unknown): Problem {
  if (err instanceof AppError) return problemFor(err.code, err.message, err.details ?? {});
  const e = err as FastifyError & { validation?: unknown[]; validationContext?: string };
  if (e?.validation) {
    return problemFor('VALIDATION_FAILED', `Invalid ${e.validationContext ?? 'request'}: ${e.message}`, {
      errors: e.validation,
    });
  }
  switch (e?.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problemFor('MALFORMED_JSON', e.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return problemFor('UNSUPPORTED_MEDIA_TYPE', e.message);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return problemFor('PAYLOAD_TOO_LARGE', e.message);
    case 'FST_ERR_VALIDATION':
      return problemFor('VALIDATION_FAILED', e.message);
  }
  if (e instanceof SyntaxError && e.message.includes('JSON')) return problemFor('MALFORMED_JSON', e.message);
  // The database refuses a change to an incorporated document (trigger lligall_documents_immutable).
  if (typeof e?.message === 'string' && e.message.startsWith('DOCUMENT_IMMUTABLE')) {
    return problemFor('DOCUMENT_IMMUTABLE', 'An incorporated document cannot be changed or deleted');
  }
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code: ErrorCode =
      e.statusCode === 404
        ? 'NOT_FOUND'
        : e.statusCode === 413
          ? 'PAYLOAD_TOO_LARGE'
          : e.statusCode === 415
            ? 'UNSUPPORTED_MEDIA_TYPE'
            : e.statusCode === 429
              ? 'RATE_LIMITED'
              : 'VALIDATION_FAILED';
    return problemFor(code, e.message);
  }
  return problemFor('INTERNAL', 'Internal error');
}

export function sendProblem(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const p = toProblem(err);
  if (p.status >= 500) req.log.error({ err }, 'request failed');
  if (p.code === 'LOGIN_LOCKED' && typeof p.retryAfterSeconds === 'number')
    reply.header('retry-after', String(p.retryAfterSeconds));
  return reply.status(p.status).type('application/problem+json').send(p);
}
