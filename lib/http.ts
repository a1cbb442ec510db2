/**
 * Helpers shared by the HTTP services: listening on a port (0 = any) and closing cleanly.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,100}$/;

/**
 * The id a request is known by in logs and audit records: the caller's `x-request-id` when it is a
 * plain token (8-100 letters, digits, `._:-`), so clients can correlate; anything else (free text,
 * line breaks, a list) is replaced by a fresh UUID rather than written into the audit log.
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
