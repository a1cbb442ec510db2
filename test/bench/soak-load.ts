/**
 * The soak's load, in its own process (so it does not share an event loop with the services):
 * `connections` read clients, each sending the bench's dashboard operations (operations.ts) back to
 * back, plus one steady stream of writes through the gateway with a token allowed to write: a new
 * ticket (createServiceTicket), a home visit (recordHomeVisit), renovation spend (recordSpend), in
 * turn. Unlike load.ts (autocannon, aggregate figures only) every request is recorded with its start,
 * duration, outcome and error codes, so the report can place it in a time window and tell whether
 * it overlapped a restart. Reads the spec (JSON) from argv[2]; writes one JSON line per request to
 * spec.out and prints a one-line summary.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { seededRandom } from './operations';
import type { RequestRecord } from './soak-report';

export interface SoakLoadSpec {
  url: string;
  token: string;
  connections: number;
  /** Epoch ms at which no new request starts. */
  endAt: number;
  maxRequests: number;
  /** Read request bodies (JSON), picked at random (seeded). */
  reads: string[];
  targets: { communities: string[]; elders: string[]; projects: { id: string; fundingType: string }[] };
  writeEveryMs: number;
  /** Reads per second across all clients; 0: each client sends its next read as soon as the last is answered. */
  readRate: number;
  seed: number;
  /** Client-side deadline per request, ms. */
  timeoutMs: number;
  out: string;
  /** Prefix of every clientKey, so keys of different runs never collide. */
  runId: string;
}

/** What an acknowledged write left behind, to be looked up afterwards. */
export type WrittenRecord =
  | { kind: 'ticket'; id: string }
  | { kind: 'visit'; id: string }
  | { kind: 'spend'; projectId: string; clientKey: string };

const CREATE_TICKET = `mutation SoakCreateTicket($input: CreateServiceTicketInput!) { createServiceTicket(input: $input) { id } }`;
const RECORD_VISIT = `mutation SoakRecordVisit($elderId: ID!, $clientKey: String) {
  recordHomeVisit(elderId: $elderId, mode: PHONE_VIDEO, occasion: ROUTINE, outcome: OK, clientKey: $clientKey) { visit { id } }
}`;
const RECORD_SPEND = `mutation SoakRecordSpend($input: RecordSpendInput!) { recordSpend(input: $input) { id } }`;
const SERVICE_CODES = ['REPAIR', 'SANITATION', 'ELEVATOR', 'PARKING', 'GREENERY', 'WASTE'];

interface Answer {
  o: RequestRecord['o'];
  c?: string[];
  /** First error message, shortened. */
  m?: string;
  data?: Record<string, any> | null;
}

async function post(url: string, body: string, timeoutMs: number, token?: string): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const name = (e as Error).name;
    return { o: 'error', c: [name === 'TimeoutError' || name === 'AbortError' ? 'CLIENT_TIMEOUT' : 'NETWORK_ERROR'], m: (e as Error).message.slice(0, 200) };
  }
  let text: string;
  try {
    text = await res.text();
  } catch {
    return { o: 'error', c: ['NETWORK_ERROR'] };
  }
  let json: { data?: Record<string, any> | null; errors?: { message?: string; extensions?: { code?: string } }[] } | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const codes = (json?.errors ?? []).map((e) => e.extensions?.code ?? 'NO_CODE');
  const m = json?.errors?.[0]?.message?.slice(0, 200) ?? text.slice(0, 200);
  if (res.status !== 200) return { o: 'error', c: codes.length ? codes : [`HTTP_${res.status}`], m, data: json?.data };
  if (!json) return { o: 'error', c: ['INVALID_JSON'], m };
  if (codes.length) return { o: json.data ? 'partial' : 'error', c: codes, m, data: json.data };
  return { o: 'ok', data: json.data };
}

async function main() {
  const spec = JSON.parse(readFileSync(process.argv[2], 'utf8')) as SoakLoadSpec;
  const out = createWriteStream(spec.out);
  const rnd = seededRandom(spec.seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  let sent = 0;
  let failed = 0;
  let acknowledged = 0;
  const record = (r: RequestRecord & { w?: WrittenRecord }) => {
    if (r.o !== 'ok') failed++;
    out.write(JSON.stringify(r) + '\n');
  };

  // With a read rate, clients take evenly spaced start slots (never more than `connections` in flight).
  let nextSlot = Date.now();
  const slot = async () => {
    if (!spec.readRate) return;
    const now = Date.now();
    const at = Math.max(now, nextSlot);
    nextSlot = at + 1000 / spec.readRate;
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
  };
  const reader = async () => {
    while (Date.now() < spec.endAt && sent < spec.maxRequests) {
      await slot();
      if (Date.now() >= spec.endAt) break;
      sent++;
      const body = pick(spec.reads);
      const op = (JSON.parse(body) as { operationName?: string }).operationName ?? 'read';
      const s = Date.now();
      const t = performance.now();
      const a = await post(spec.url, body, spec.timeoutMs);
      record({ s, d: Math.round(performance.now() - t), k: 'read', op, o: a.o, ...(a.c ? { c: a.c, m: a.m } : {}) });
    }
  };

  const writer = async () => {
    let n = 0;
    let next = Date.now();
    while (Date.now() < spec.endAt) {
      const wait = next - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (Date.now() >= spec.endAt) break;
      next += spec.writeEveryMs;
      const clientKey = `${spec.runId}-${n}`;
      const kind = (['ticket', 'visit', 'spend'] as const)[n % 3];
      n++;
      let body: string;
      let project: { id: string; fundingType: string } | undefined;
      if (kind === 'ticket') {
        if (!spec.targets.communities.length) continue;
        body = JSON.stringify({
          query: CREATE_TICKET,
          operationName: 'SoakCreateTicket',
          variables: { input: { clientKey, communityId: pick(spec.targets.communities), serviceCode: pick(SERVICE_CODES), channel: 'APP', description: 'Soak run: stairwell light out on the third floor' } },
        });
      } else if (kind === 'visit') {
        if (!spec.targets.elders.length) continue;
        body = JSON.stringify({ query: RECORD_VISIT, operationName: 'SoakRecordVisit', variables: { elderId: pick(spec.targets.elders), clientKey } });
      } else {
        if (!spec.targets.projects.length) continue;
        project = pick(spec.targets.projects);
        body = JSON.stringify({
          query: RECORD_SPEND,
          operationName: 'SoakRecordSpend',
          variables: { input: { projectId: project.id, fundingType: project.fundingType, amount: { fen: 100 + Math.floor(rnd() * 10000) }, clientKey } },
        });
      }
      const s = Date.now();
      const t = performance.now();
      const a = await post(spec.url, body, spec.timeoutMs, spec.token);
      let w: WrittenRecord | undefined;
      if (a.o === 'ok') {
        const id =
          kind === 'ticket' ? a.data?.createServiceTicket?.id : kind === 'visit' ? a.data?.recordHomeVisit?.visit?.id : a.data?.recordSpend?.id;
        if (typeof id === 'string') {
          acknowledged++;
          w = kind === 'spend' ? { kind, projectId: project!.id, clientKey } : { kind, id };
        }
      }
      record({ s, d: Math.round(performance.now() - t), k: 'write', op: kind, o: a.o, ...(a.c ? { c: a.c, m: a.m } : {}), ...(w ? { w } : {}) });
    }
  };

  await Promise.all([...Array.from({ length: spec.connections }, reader), writer()]);
  await new Promise<void>((resolve) => out.end(resolve));
  console.log(JSON.stringify({ reads: sent, failed, acknowledged }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
