/**
 * Helpers shared by the HTTP services: listening on a port (0 = any) and closing cleanly.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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
