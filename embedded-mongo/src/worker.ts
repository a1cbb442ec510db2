/**
 * Worker-thread side of the engine: owns the TCP server so heavy commands never block the host
 * event loop. Talks to the host (index.ts) with a tiny message protocol: ready / error / stop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EmbeddedServer, ServerOptions } from './server';

const port = parentPort;
if (!port) throw new Error('embedded-mongo worker must run on a worker thread');

const server = new EmbeddedServer(workerData as ServerOptions);

server.start().then(
  (started) => port.postMessage({ type: 'ready', ...started }),
  (err: Error) => port.postMessage({ type: 'error', message: err.message }),
);

port.on('message', (msg: { type: string }) => {
  if (msg.type === 'stop') {
    server.stop().then(
      () => {
        port.postMessage({ type: 'stopped' });
        port.close();
      },
      (err: Error) => port.postMessage({ type: 'stopped', error: err.message }),
    );
  } else if (msg.type === 'snapshot') {
    try {
      server.snapshot();
      port.postMessage({ type: 'snapshotted' });
    } catch (e) {
      port.postMessage({ type: 'snapshotted', error: (e as Error).message });
    }
  }
});
