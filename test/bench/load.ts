/**
 * The load generator, in its own process (so it does not share an event loop with the subgraphs):
 * autocannon against one gateway URL. Reads a JSON spec file (argv[2]) with the URL, connections,
 * duration (or a fixed amount of requests, all of them answered) and a pool of request bodies; each
 * request picks a body at random (seeded). Prints the result as one JSON line, with the count of
 * answers that carried GraphQL errors.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { seededRandom } from './operations';

interface Spec {
  url: string;
  connections: number;
  durationSeconds: number;
  /** When set: send exactly this many requests and wait for every answer (duration ignored). */
  amount?: number;
  bodies: string[];
  seed: number;
}

async function main() {
  const spec = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Spec;
  const rnd = seededRandom(spec.seed);
  let withErrors = 0;
  let sampleError: string | undefined;
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    ...(spec.amount ? { amount: spec.amount } : { duration: spec.durationSeconds }),
    // Slow answers are measured, not dropped (autocannon's default gives up after 10 s).
    timeout: 60,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (req: any) => ({ ...req, body: spec.bodies[Math.floor(rnd() * spec.bodies.length)] }),
        onResponse: (status: number, body: string) => {
          if (status !== 200 || body.includes('"errors"')) {
            withErrors++;
            if (!sampleError) sampleError = `${status} ${body.slice(0, 300)}`;
          }
        },
      },
    ],
  } as autocannon.Options);
  const r = result as autocannon.Result;
  console.log(
    JSON.stringify({
      requests: r.requests.total,
      rps: r.duration > 0 ? r.requests.total / r.duration : 0,
      durationSeconds: r.duration,
      p50: r.latency.p50,
      p90: r.latency.p90,
      p99: r.latency.p99,
      max: r.latency.max,
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      withErrors,
      sampleError,
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
