import http from 'node:http';

/** One HTTP request of a load run. */
export type LoadRequest = {
  method: 'GET' | 'POST';
  path: string;
  /** A JSON body. */
  body?: unknown;
  /** A body sent as is (e.g. multipart/form-data). */
  raw?: { contentType: string; data: Buffer };
};

export type LoadResult = {
  requests: number;
  seconds: number;
  /** Completed requests per second over the whole run. */
  rate: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
};

/** The q-quantile (nearest rank) of sorted values. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * Sends `requests` requests to a server with `concurrency` clients, each on its own keep-alive
 * connection, one request at a time (a closed loop). Latency is measured from the request being
 * written to the last byte of the answer. Any status other than `expect` fails the run.
 */
export async function runLoad(opts: {
  baseUrl: string;
  headers: Record<string, string>;
  concurrency: number;
  requests: number;
  expect: number;
  next: (i: number) => LoadRequest;
  /** Receives each answer's body (e.g. to collect created numbers). */
  onBody?: (i: number, body: string) => void;
}): Promise<LoadResult> {
  const url = new URL(opts.baseUrl);
  if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost' && url.hostname !== '[::1]') {
    throw new Error(`benchmarks run against loopback only, not ${url.hostname}`);
  }
  const agent = new http.Agent({
    keepAlive: true,
    maxSockets: opts.concurrency,
    maxFreeSockets: opts.concurrency,
  });
  const latencies: number[] = new Array(opts.requests);
  let issued = 0;
  let failure: Error | undefined;

  const send = (r: LoadRequest): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const payload = r.raw
        ? r.raw.data
        : r.body === undefined
          ? undefined
          : Buffer.from(JSON.stringify(r.body));
      const contentType = r.raw ? r.raw.contentType : 'application/json';
      const req = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: r.method,
          path: r.path,
          headers: {
            ...opts.headers,
            ...(payload ? { 'content-type': contentType, 'content-length': String(payload.length) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.once('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.once('error', reject);
        },
      );
      req.once('error', reject);
      req.end(payload);
    });

  const client = async () => {
    while (!failure && issued < opts.requests) {
      const i = issued++;
      const r = opts.next(i);
      const t0 = performance.now();
      const res = await send(r);
      latencies[i] = performance.now() - t0;
      if (res.status !== opts.expect) {
        failure = new Error(
          `${r.method} ${r.path}: ${res.status} (expected ${opts.expect}): ${res.body.slice(0, 500)}`,
        );
        return;
      }
      opts.onBody?.(i, res.body);
    }
  };

  const start = performance.now();
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, client));
  } finally {
    agent.destroy();
  }
  if (failure) throw failure;
  const seconds = (performance.now() - start) / 1000;
  const sorted = latencies.slice().sort((a, b) => a - b);
  return {
    requests: opts.requests,
    seconds,
    rate: opts.requests / seconds,
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    max: sorted.at(-1)!,
  };
}
