/**
 * The gateway's HTTP client for subgraph calls: keep-alive connections per subgraph (node:http
 * Agent), a hard deadline per call, and a retry budget shared by the gateway. It never throws a
 * message carrying a URL, host, port or errno: failures come back as a `SubgraphCallError` whose
 * `reason` is one of a few plain words; the errno stays in `detail` for server-side logs only.
 */
import http from 'node:http';
import https from 'node:https';

export interface RawSubgraphResponse {
  status: number;
  /** Lower-cased response headers of interest (cache-control, content-type). */
  headers: Record<string, string | undefined>;
  text: string;
}

export type FailureReason = 'timeout' | 'connection' | 'http-status';

export class SubgraphCallError extends Error {
  constructor(
    readonly reason: FailureReason,
    /** Server-side detail (errno, status); never shown to clients. */
    readonly detail: string,
    readonly status?: number,
  ) {
    super(reason);
    this.name = 'SubgraphCallError';
  }
}

/** Connection-level failures worth one retry on a fresh connection (never for mutations). */
const RETRYABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const RETRYABLE_STATUS = new Set([502, 503, 504]);

export function isRetryable(err: unknown): boolean {
  if (!(err instanceof SubgraphCallError)) return false;
  if (err.reason === 'connection') return RETRYABLE_ERRNO.has(err.detail) || err.detail === 'socket hang up';
  if (err.reason === 'http-status') return err.status !== undefined && RETRYABLE_STATUS.has(err.status);
  return false;
}

export interface SubgraphClientOptions {
  /** Most sockets kept per subgraph (default 256). */
  maxSockets?: number;
}

/** One keep-alive HTTP client per subgraph URL. */
export class SubgraphClient {
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;

  constructor(url: string, opts: SubgraphClientOptions = {}) {
    this.url = new URL(url);
    const isHttps = this.url.protocol === 'https:';
    this.transport = isHttps ? https : http;
    const agentOpts: http.AgentOptions = {
      keepAlive: true,
      keepAliveMsecs: 1000,
      maxSockets: opts.maxSockets ?? 256,
      maxFreeSockets: 64,
      // Below Node's default server keepAliveTimeout (5 s), so we drop idle sockets before the
      // subgraph does and rarely write into a socket it is closing.
      timeout: 4000,
      scheduling: 'lifo',
    };
    this.agent = isHttps ? new https.Agent(agentOpts) : new http.Agent(agentOpts);
  }

  /** POSTs a JSON body; resolves with the raw answer (any status) or rejects with SubgraphCallError. */
  post(body: string, headers: Record<string, string>, timeoutMs: number): Promise<RawSubgraphResponse> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: SubgraphCallError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      };
      const req = this.transport.request({
        protocol: this.url.protocol,
        hostname: this.url.hostname,
        port: this.url.port,
        path: this.url.pathname + this.url.search,
        method: 'POST',
        agent: this.agent,
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      });
      const timer = setTimeout(() => {
        fail(new SubgraphCallError('timeout', `no answer within ${timeoutMs} ms`));
        req.destroy();
      }, Math.max(1, timeoutMs));
      req.on('error', (err: NodeJS.ErrnoException) => fail(new SubgraphCallError('connection', err.code ?? err.message)));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err: NodeJS.ErrnoException) => fail(new SubgraphCallError('connection', err.code ?? err.message)));
        res.on('aborted', () => fail(new SubgraphCallError('connection', 'ECONNRESET')));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: {
              'cache-control': res.headers['cache-control'],
              'content-type': res.headers['content-type'],
            },
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * A retry budget over a sliding window (default 10 s in 1 s buckets): retries may add at most
 * `percent` of the requests seen in the window, plus a small floor so a quiet gateway can still
 * retry a stale keep-alive socket. Shared by every subgraph of one gateway.
 */
export class RetryBudget {
  private readonly buckets: { second: number; requests: number; retries: number }[] = [];

  constructor(
    readonly percent = 10,
    readonly minPerWindow = 2,
    readonly windowSeconds = 10,
    private readonly now: () => number = Date.now,
  ) {}

  private bucket() {
    const second = Math.floor(this.now() / 1000);
    while (this.buckets.length && this.buckets[0].second <= second - this.windowSeconds) this.buckets.shift();
    let last = this.buckets[this.buckets.length - 1];
    if (!last || last.second !== second) {
      last = { second, requests: 0, retries: 0 };
      this.buckets.push(last);
    }
    return last;
  }

  recordRequest(): void {
    this.bucket().requests++;
  }

  /** Takes one retry from the budget; false when the budget is spent. */
  tryRetry(): boolean {
    const current = this.bucket();
    let requests = 0;
    let retries = 0;
    for (const b of this.buckets) {
      requests += b.requests;
      retries += b.retries;
    }
    if (retries + 1 > this.minPerWindow + (requests * this.percent) / 100) return false;
    current.retries++;
    return true;
  }
}
