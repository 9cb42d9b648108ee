import { createRequire } from 'node:module';
import zlib from 'node:zlib';

/**
 * pdf-lib compresses each stream it writes (page contents, ToUnicode maps, signature appearances)
 * with `pako.deflate`, zlib ported to JavaScript, which sets up a fresh 64 KB window for every
 * stream: about 0.8 ms of CPU and much garbage per receipt. Node's own zlib writes the same
 * format (RFC 1950, what /FlateDecode reads) natively. Imported for its effect: the pako that
 * pdf-lib requires (resolved from pdf-lib, so it is the same module) deflates with node:zlib
 * when called as pdf-lib calls it (no options, or only a level); any other use is left to pako.
 */
type Deflate = (data: Uint8Array, options?: { level?: number }) => Uint8Array;

const pako = createRequire(createRequire(import.meta.url).resolve('pdf-lib'))('pako') as {
  deflate: Deflate & { native?: true };
};

/** An empty stream (a signature field's appearance) deflates to these bytes: no need to set up zlib for it. */
const EMPTY = zlib.deflateSync(Buffer.alloc(0));

if (!pako.deflate.native) {
  const jsDeflate = pako.deflate;
  const nativeDeflate: Deflate & { native?: true } = (data, options) => {
    if (options && Object.keys(options).some((k) => k !== 'level')) return jsDeflate(data, options);
    if (data.length === 0 && options?.level === undefined) return Buffer.from(EMPTY);
    return zlib.deflateSync(data, options?.level === undefined ? {} : { level: options.level });
  };
  nativeDeflate.native = true;
  pako.deflate = nativeDeflate;
}
