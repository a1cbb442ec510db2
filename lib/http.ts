/**
 * Helpers shared by the HTTP services: creating the server with explicit client timeouts, listening
 * on a port (0 = any), closing cleanly, and stopping on SIGTERM/SIGINT after draining.
 */
import { randomUUID } from 'node:crypto';
import http, { type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpTimeoutsFromEnv, type HttpTimeouts } from './config';
import type { Logger } from './logger';

/**
 * An HTTP server whose clients cannot hold a connection by sending slowly (slowloris): all headers
 * must arrive within `headersTimeoutMs` and the whole request within `requestTimeoutMs` (default
 * HTTP_HEADERS_TIMEOUT_MS 10 s / HTTP_REQUEST_TIMEOUT_MS 30 s), else Node answers 408 and closes the
 * connection. Node checks these every `connectionsCheckingInterval` (30 s by default, which would
 * let a slow client stay up to 30 s longer): here a quarter of the headers timeout, at most 1 s.
 * Time spent producing the response is not limited here (the gateway's subgraph deadlines are).
 */
export function createHttpServer(app: RequestListener, timeouts: HttpTimeouts = httpTimeoutsFromEnv()): Server {
  const requestTimeout = timeouts.requestTimeoutMs;
  // Node refuses a headers timeout longer than the request timeout.
  const headersTimeout = Math.min(timeouts.headersTimeoutMs, requestTimeout);
  return http.createServer(
    { headersTimeout, requestTimeout, connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))) },
    app,
  );
}

/**
 * An RFC 4122 UUID (version 1-8, the RFC variant): the gateway's own ids have this form. A free hex
 * string is refused: an 18-digit ID-card number or a phone number is valid hex.
 */
const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * The id a request is known by in logs and audit records: the caller's `x-request-id` when it is a
 * UUID, so clients can correlate; anything else (free text, a phone or ID-card number, a name in
 * pinyin, a list) is replaced by a fresh UUID rather than written into the audit log.
 */
export function requestIdFrom(header: unknown): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

export interface Listening {
  url: string;
  port: number;
  /** Requests received and not yet answered (or abandoned by their client). */
  inFlight(): number;
  close(): Promise<void>;
}

/** Listens on host:port and resolves with the bound URL; `path` is appended to the URL. */
export function listen(server: Server, port: number, host: string, path: string, onClose?: () => Promise<void>): Promise<Listening> {
  let inFlight = 0;
  server.on('request', (_req, res) => {
    inFlight++;
    res.once('close', () => inFlight--);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address() as AddressInfo;
      resolve({
        url: `http://${host}:${addr.port}${path}`,
        port: addr.port,
        inFlight: () => inFlight,
        close: async () => {
          await onClose?.();
          await new Promise<void>((res) => {
            server.close(() => res());
            server.closeAllConnections?.();
          });
        },
      });
    });
  });
}

export interface TerminationOptions {
  logger: Logger;
  /** SHUTDOWN_GRACE_MS: how long requests in flight may take to complete (the drain plugin's grace period). */
  graceMs: number;
  /** Stops accepting connections, drains requests in flight (cut after `graceMs`), then releases the rest. */
  stop: () => Promise<void>;
  /** Requests still in flight, for the log line when the grace period runs out. */
  inFlight?: () => number;
  /** Extra time after the grace period for the rest of `stop` (closing databases) before exiting anyway. */
  marginMs?: number;
  exit?: (code: number) => void;
}

/**
 * SIGTERM/SIGINT for an entry point: stop accepting connections at once (new ones are refused), let
 * the requests in flight complete, then exit 0. Requests still running after `graceMs` are cut
 * (logged); if stopping has not finished `marginMs` (5 s) after that, the process exits 1 anyway
 * (logged). A second signal while stopping exits 1 at once.
 */
export function exitOnTerminationSignals(opts: TerminationOptions): void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      opts.logger.warn({ signal }, 'second signal while stopping: exiting now');
      exit(1);
      return;
    }
    stopping = true;
    opts.logger.info({ signal, graceMs: opts.graceMs, inFlight: opts.inFlight?.() }, 'stopping: new connections refused, requests in flight complete first');
    const cut = setTimeout(() => {
      const left = opts.inFlight?.() ?? 0;
      if (left > 0) opts.logger.warn({ graceMs: opts.graceMs, inFlight: left }, 'shutdown grace period over: cutting the requests still in flight');
    }, opts.graceMs);
    cut.unref();
    const hard = setTimeout(() => {
      opts.logger.error({ graceMs: opts.graceMs }, 'shutdown did not finish after the grace period: exiting anyway');
      exit(1);
    }, opts.graceMs + (opts.marginMs ?? 5000));
    hard.unref();
    opts.stop().then(
      () => {
        clearTimeout(cut);
        clearTimeout(hard);
        opts.logger.info({ signal }, 'stopped cleanly');
        exit(0);
      },
      (err: unknown) => {
        opts.logger.error({ err }, 'error while stopping');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
