/**
 * Helpers shared by the HTTP services: listening on a port (0 = any) and closing cleanly.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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
