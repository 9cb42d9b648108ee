import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Config } from '../../../config.ts';
import { AppError } from '#platform/errors.ts';

/**
 * A DESA'L document as a MUX v3 transaction refers to it (guide 3.2.3): its UUID, where its
 * content is (`contingut` 1 = in DESA'L, 2 = external by URL, 3 = external by CSV) and what the
 * transaction declares about the file.
 */
export type DesalRef = {
  uuid: string;
  contingut: 1 | 2 | 3;
  /** URLDocumentExtern, for contingut 2. */
  externalUrl: string | null;
  fileName: string;
  mimeType: string;
  declaredSize: number | null;
};

export type DesalFile = { fileName: string; mimeType: string; bytes: Readable };

/** Fetches a DESA'L document's file. Implementations refuse a file above `maxBytes` when they can tell early. */
export type DesalClient = {
  readonly kind: string;
  fetch(ref: DesalRef, opts: { maxBytes: number }): Promise<DesalFile>;
};

const UUIDISH = /^[0-9A-Za-z][0-9A-Za-z-]{0,99}$/;

function tooLarge(ref: DesalRef, size: number, maxBytes: number): AppError {
  return new AppError(
    'MUX_ATTACHMENT_TOO_LARGE',
    `DESA'L document ${ref.uuid} has ${size} bytes; the limit is ${maxBytes} (LLIGALL_MUX_MAX_ATTACHMENT_MB)`,
  );
}

/**
 * Documents from a local directory: the file named after the document's UUID. For tests, the demo,
 * and installations that receive DESA'L exports by other means. Any `contingut` is served from the
 * directory (an external document saved there under its UUID).
 */
export class LocalDesalClient implements DesalClient {
  readonly kind = 'local';
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }
  async fetch(ref: DesalRef, opts: { maxBytes: number }): Promise<DesalFile> {
    // The UUID names a file: letters, digits and hyphens only, so it cannot leave the directory.
    if (!UUIDISH.test(ref.uuid))
      throw new AppError('MUX_ATTACHMENT_UNAVAILABLE', `Not a DESA'L document id: ${ref.uuid}`);
    const file = path.join(this.dir, ref.uuid);
    let size: number;
    try {
      size = (await fsp.stat(file)).size;
    } catch {
      throw new AppError('MUX_ATTACHMENT_UNAVAILABLE', `DESA'L document ${ref.uuid} is not in ${this.dir}`);
    }
    if (size > opts.maxBytes) throw tooLarge(ref, size, opts.maxBytes);
    return { fileName: ref.fileName, mimeType: ref.mimeType, bytes: fs.createReadStream(file) };
  }
}

/**
 * Documents over HTTP. The MUX guide says a document "in DESA'L" (contingut 1) is downloaded
 * through DESA'L's API by its UUID but does not publish that API, so its address is configured
 * (LLIGALL_DESAL_URL, `{uuid}` replaced); an external document by URL (contingut 2) is read from
 * its URLDocumentExtern (https only); an external document by CSV (contingut 3) lives in another
 * custody service and cannot be fetched automatically. Redirects are not followed; the size is
 * checked on Content-Length and again while streaming.
 */
export class HttpDesalClient implements DesalClient {
  readonly kind = 'http';
  readonly urlTemplate: string | undefined;
  readonly timeoutMs: number;
  constructor(urlTemplate: string | undefined, opts: { timeoutMs?: number } = {}) {
    this.urlTemplate = urlTemplate;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }
  urlFor(ref: DesalRef): string {
    if (ref.contingut === 3)
      throw new AppError(
        'MUX_ATTACHMENT_UNAVAILABLE',
        `DESA'L document ${ref.uuid} is external by CSV: fetch it from its custody service`,
      );
    if (ref.contingut === 2) {
      if (!ref.externalUrl || !/^https:\/\//i.test(ref.externalUrl))
        throw new AppError(
          'MUX_ATTACHMENT_UNAVAILABLE',
          `DESA'L document ${ref.uuid} is external by URL but has no https URLDocumentExtern`,
        );
      return ref.externalUrl;
    }
    if (!this.urlTemplate)
      throw new AppError('MUX_ATTACHMENT_UNAVAILABLE', 'LLIGALL_DESAL_URL is not configured');
    if (!UUIDISH.test(ref.uuid))
      throw new AppError('MUX_ATTACHMENT_UNAVAILABLE', `Not a DESA'L document id: ${ref.uuid}`);
    return this.urlTemplate.replaceAll('{uuid}', encodeURIComponent(ref.uuid));
  }
  async fetch(ref: DesalRef, opts: { maxBytes: number }): Promise<DesalFile> {
    const url = this.urlFor(ref);
    let res: Response;
    try {
      res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      throw new AppError(
        'MUX_ATTACHMENT_UNAVAILABLE',
        `DESA'L document ${ref.uuid}: ${(e as Error).message}`,
        { transient: true },
      );
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new AppError('MUX_ATTACHMENT_UNAVAILABLE', `DESA'L document ${ref.uuid}: HTTP ${res.status}`, {
        transient: res.status >= 500 || res.status === 429,
      });
    }
    const length = Number(res.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(length) && length > opts.maxBytes) {
      await res.body.cancel();
      throw tooLarge(ref, length, opts.maxBytes);
    }
    const type = res.headers.get('content-type')?.split(';')[0]?.trim();
    return {
      fileName: ref.fileName,
      mimeType: ref.mimeType || type || 'application/octet-stream',
      bytes: Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>),
    };
  }
}

/** The client the configuration names: a local directory wins over the HTTP address. */
export function desalClientFor(config: Pick<Config, 'desalDir' | 'desalUrl'>): DesalClient {
  if (config.desalDir) return new LocalDesalClient(config.desalDir);
  return new HttpDesalClient(config.desalUrl);
}
