/**
 * A TCP proxy on 127.0.0.1 in front of a database (or any server) for fault tests: it passes bytes
 * through both ways until told to hold the answers on the connection that sends a given text (a
 * collection name in a command), which then reach the client only when released (nothing dropped or
 * reordered), or to black-hole everything (`freeze`: connections stay open and accepted, nothing
 * gets through, as with a database host that stopped answering; `thaw` closes those connections
 * and passes new ones through again).
 */
import net, { type AddressInfo } from 'node:net';

export interface HeldAnswer {
  /** Resolves once a client has sent a chunk containing the text (the command is at the server). */
  sent: Promise<void>;
  /** Lets the held answers (and everything after them) through. */
  release(): void;
}

export interface TcpProxy {
  port: number;
  uri: string;
  /** Holds the server's answers on the next connection whose client sends `text`. */
  holdAnswersTo(text: string): HeldAnswer;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

interface Hold {
  text: Buffer;
  sent: () => void;
  released: Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let pending: Hold | undefined;
  let frozen = false;
  /** Client sockets caught by a freeze: they never pass anything again. */
  const dead = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (frozen) {
      dead.add(client);
      client.on('error', () => undefined);
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let gate: Promise<void> = Promise.resolve();
    let chain: Promise<void> = Promise.resolve();
    client.on('data', (chunk) => {
      if (dead.has(client)) return;
      if (pending && chunk.includes(pending.text)) {
        const hold = pending;
        pending = undefined;
        gate = hold.released;
        hold.sent();
      }
      upstream.write(chunk);
    });
    // Answers go out in order, each after the gate (open unless this connection is held).
    upstream.on('data', (chunk) => {
      if (dead.has(client)) return;
      chain = chain.then(() => gate).then(() => void (client.destroyed || client.write(chunk)));
    });
    const closeBoth = () => {
      if (dead.has(client)) return;
      void chain.then(() => {
        client.destroy();
        upstream.destroy();
      });
    };
    client.on('close', closeBoth).on('error', closeBoth);
    upstream.on('close', closeBoth).on('error', closeBoth);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    uri: `mongodb://127.0.0.1:${port}`,
    holdAnswersTo(text) {
      let sent!: () => void;
      let release!: () => void;
      const sentP = new Promise<void>((r) => (sent = r));
      const released = new Promise<void>((r) => (release = r));
      pending = { text: Buffer.from(text), sent, released };
      return { sent: sentP, release };
    },
    freeze() {
      frozen = true;
      for (const s of sockets) dead.add(s);
    },
    thaw() {
      frozen = false;
      for (const s of dead) s.destroy();
      dead.clear();
    },
    async close() {
      for (const s of [...sockets, ...dead]) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
