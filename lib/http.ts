/**
 * Helpers shared by the HTTP services: listening on a port (0 = any) and closing cleanly.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A UUID, or a 16-64 digit hex trace id (W3C trace-id, span ids): nothing that can carry a name or a phone. */
const REQUEST_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,64})$/i;

/**
 * The id a request is known by in logs and audit records: the caller's `x-request-id` when it is a
 * UUID or a hex trace id, so clients can correlate; anything else (free text, a phone number, a
 * name in pinyin, a list) is replaced by a fresh UUID rather than written into the audit log.
 */
export function requestIdFrom(header: unknown): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

export interface Listening {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Listens on host:port and resolves with the bound URL; `path` is appended to the URL. */
export function listen(server: Server, port: number, host: string, path: string, onClose?: () => Promise<void>): Promise<Listening> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address() as AddressInfo;
      resolve({
        url: `http://${host}:${addr.port}${path}`,
        port: addr.port,
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
