/**
 * Open311 GeoReport v2 over REST, as its clients speak it (http://wiki.open311.org/GeoReport_v2),
 * served by the governance subgraph's HTTP app next to its GraphQL endpoint:
 *
 *   GET  /open311/v2/services.json                   the service catalogue
 *   GET  /open311/v2/services/{code}.json            a service definition (no extra attributes)
 *   GET  /open311/v2/requests.json                   requests, with service_request_id, service_code,
 *                                                    start_date, end_date, status, jurisdiction_id
 *                                                    (and the page/page_size extension)
 *
 * `jurisdiction_id` is optional everywhere, as in GeoReport v2 (required there only where an
 * endpoint serves several jurisdictions and cannot tell which one is meant): without it a GET of
 * requests answers across every jurisdiction of the graph (one jurisdiction: that one), and a POST
 * takes the jurisdiction of its 小区 (`address_id`).
 *   POST /open311/v2/requests.json                   a new request (form-encoded or JSON)
 *   GET  /open311/v2/requests/{id}.json              one request
 *
 * Each call is translated into the subgraph's own GraphQL operation (open311Services,
 * open311Requests, createServiceTicket) and sent to its own endpoint with the caller's token:
 * `api_key` (or an `Authorization: Bearer` header) is one of the project's bearer tokens. So the
 * token check, the access rules (@requiresScopes, @rowScope, @pii), the validation, the idempotency
 * (`client_key` or an `Idempotency-Key` header → clientKey) and the audit log are exactly the
 * GraphQL API's. Personal fields the caller may not read are left out of the answer; reporter data
 * (first_name, last_name, phone, email) is accepted on POST for the return visit and never returned.
 * Errors use the standard's array: `[{"code": 400, "description": "..."}]`. JSON only: `.xml` is
 * answered with a 400 in that format's JSON form.
 */
import express, { type Express, type Request, type Response } from 'express';
import { JURISDICTIONS, SERVICE_NOTICE } from './services/open311';

const REQUEST_FIELDS =
  'service_request_id status status_notes service_name service_code description agency_responsible service_notice requested_datetime updated_datetime expected_datetime address address_id zipcode lat long media_url';

interface GqlError {
  message: string;
  extensions?: { code?: string; field?: string };
  path?: (string | number)[];
}
interface GqlResult<T> {
  data?: T | null;
  errors?: GqlError[];
}

/** Without jurisdiction_id, the most requests (page × page_size) merged across jurisdictions. */
const MAX_MERGED = 1000;

class Open311Error extends Error {
  constructor(readonly status: number, description: string) {
    super(description);
  }
}

const STATUS_OF: Record<string, number> = { BAD_USER_INPUT: 400, GRAPHQL_VALIDATION_FAILED: 400, BAD_REQUEST: 400, UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409, RATE_LIMITED: 429 };

function sendError(res: Response, status: number, description: string) {
  res.status(status).type('application/json').send(JSON.stringify([{ code: status, description }]));
}

/** A single query parameter (first value when repeated), or undefined. */
function param(src: Record<string, unknown>, name: string): string | undefined {
  const v = src[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s == null || s === '' ? undefined : String(s);
}

function bearerOf(req: Request, src: Record<string, unknown>): string | undefined {
  const key = param(src, 'api_key');
  if (key) return `Bearer ${key}`;
  return req.headers.authorization;
}

/** Field errors that only hide personal fields from this caller (the field is left out instead). */
const hidesField = (e: GqlError) => (e.extensions?.code === 'FORBIDDEN' || e.extensions?.code === 'UNAUTHENTICATED') && (e.path?.length ?? 0) > 2;

/** Drops the fields the caller may not read (null with a FORBIDDEN error) from a request view. */
function withoutHidden(view: Record<string, unknown>, hidden: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(view)) if (!hidden.has(k)) out[k] = v;
  return out;
}

export function mountOpen311(app: Express, opts: { graphqlPath: string }) {
  const router = express.Router();
  router.use(express.urlencoded({ extended: false, limit: '64kb' }), express.json({ limit: '64kb' }));

  async function gql<T>(req: Request, auth: string | undefined, query: string, variables: Record<string, unknown>): Promise<{ data: T; errors: GqlError[] }> {
    const addr = req.socket.localAddress ?? '127.0.0.1';
    const host = addr.includes(':') && !addr.startsWith('::ffff:') ? `[${addr}]` : addr.replace(/^::ffff:/, '');
    const res = await fetch(`http://${host}:${req.socket.localPort}${opts.graphqlPath}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(auth ? { authorization: auth } : {}),
        ...(typeof req.headers['x-request-id'] === 'string' ? { 'x-request-id': req.headers['x-request-id'] } : {}),
        // The gateway's secret this request was let in with (the GraphQL path checks it again).
        ...(typeof req.headers['x-gateway-secret'] === 'string' ? { 'x-gateway-secret': req.headers['x-gateway-secret'] } : {}),
        'apollographql-client-name': 'open311-rest',
      },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as GqlResult<T>;
    const errors = body.errors ?? [];
    const fatal = errors.find((e) => !hidesField(e)) ?? (body.data ? undefined : errors[0]);
    if (fatal || !body.data) {
      const code = fatal?.extensions?.code ?? 'INTERNAL_SERVER_ERROR';
      throw new Open311Error(STATUS_OF[code] ?? (res.status >= 400 && res.status < 500 ? res.status : 500), fatal?.message ?? 'internal server error');
    }
    return { data: body.data, errors };
  }

  /** `.json` only; anything else is a 400 (XML is optional in the standard and not served). */
  const format = (req: Request) => {
    const f = String(req.params.format ?? '').toLowerCase();
    if (f !== 'json') throw new Open311Error(400, `format "${f}" is not served; use .json`);
  };

  const handle = (fn: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
    try {
      await fn(req, res);
    } catch (e) {
      if (e instanceof Open311Error) return sendError(res, e.status, e.message);
      sendError(res, 500, 'internal server error');
    }
  };

  router.get('/services.:format', handle(async (req, res) => {
    format(req);
    const q = req.query as Record<string, unknown>;
    const { data } = await gql<{ open311Services: unknown[] }>(
      req, bearerOf(req, q),
      'query Open311Services($j: String) { open311Services(jurisdictionId: $j) { service_code service_name description metadata type keywords group } }',
      { j: param(q, 'jurisdiction_id') ?? null },
    );
    res.json(data.open311Services.map((s) => ({ ...(s as Record<string, unknown>), keywords: ((s as { keywords: string[] }).keywords ?? []).join(',') })));
  }));

  router.get('/services/:code.:format', handle(async (req, res) => {
    format(req);
    const q = req.query as Record<string, unknown>;
    const { data } = await gql<{ open311Services: { service_code: string }[] }>(
      req, bearerOf(req, q),
      'query Open311Services($j: String) { open311Services(jurisdictionId: $j) { service_code } }',
      { j: param(q, 'jurisdiction_id') ?? null },
    );
    const code = String(req.params.code);
    if (!data.open311Services.some((s) => s.service_code === code)) throw new Open311Error(404, `no service with service_code "${code}"`);
    // No service has extra attributes (metadata is false for all): the definition lists none.
    res.json({ service_code: code, attributes: [] });
  }));

  async function requests(req: Request, q: Record<string, unknown>, ids: string[] | null) {
    const given = param(q, 'jurisdiction_id');
    const codes = param(q, 'service_code')?.split(',').map((s) => s.trim()).filter(Boolean);
    const status = param(q, 'status');
    if (status && status !== 'open' && status !== 'closed') throw new Open311Error(400, `status must be open or closed, got "${status}"`);
    const num = (name: string) => {
      const v = param(q, name);
      if (v === undefined) return undefined;
      if (!/^\d+$/.test(v)) throw new Open311Error(400, `${name} must be a whole number`);
      return Number(v);
    };
    const page = num('page') ?? 1;
    const pageSize = num('page_size') ?? 100;
    // One list per jurisdiction asked (aliases j0, j1, …): the given one, else every one of the graph.
    const jurisdictions = given ? [given] : Object.keys(JURISDICTIONS);
    let window = { page, pageSize };
    if (!given && jurisdictions.length > 1) {
      // Across jurisdictions: the first page × page_size of each, merged in the order of one list
      // (requested_datetime, then id), then the page cut out of the merge.
      if (page * pageSize > MAX_MERGED) {
        throw new Open311Error(400, `without jurisdiction_id, page × page_size may be at most ${MAX_MERGED}; give jurisdiction_id (${jurisdictions.join(', ')}) to page further`);
      }
      window = { page: 1, pageSize: page * pageSize };
    }
    const fields = jurisdictions
      .map((_j, i) => `j${i}: open311Requests(jurisdictionId: $j${i}, serviceRequestIds: $ids, serviceCode: $codes, startDate: $start, endDate: $end, status: $status, page: $page, pageSize: $pageSize) { ${REQUEST_FIELDS} }`)
      .join('\n');
    const { data, errors } = await gql<Record<string, Record<string, unknown>[]>>(
      req, bearerOf(req, q),
      `query Open311Requests(${jurisdictions.map((_j, i) => `$j${i}: String!`).join(', ')}, $ids: [ID!], $codes: [ServiceCode!], $start: DateTime, $end: DateTime, $status: Open311Status, $page: Int, $pageSize: Int) {
        ${fields}
      }`,
      {
        ...Object.fromEntries(jurisdictions.map((j, i) => [`j${i}`, j])),
        ids, codes: codes?.length ? codes : null, start: param(q, 'start_date') ?? null, end: param(q, 'end_date') ?? null,
        status: status ?? null, page: window.page, pageSize: window.pageSize,
      },
    );
    // Per list and request, the personal fields this caller may not read (left out of the answer).
    const hidden = new Map<string, Set<string>>();
    for (const e of errors) {
      const [alias, index, field] = e.path ?? [];
      if (typeof index === 'number' && typeof field === 'string') hidden.set(`${alias}/${index}`, (hidden.get(`${alias}/${index}`) ?? new Set()).add(field));
    }
    const lists = jurisdictions.map((_j, i) => (data[`j${i}`] ?? []).map((r, k) => withoutHidden(r, hidden.get(`j${i}/${k}`) ?? new Set())));
    if (lists.length === 1) return lists[0]!;
    const merged = lists.flat().sort((a, b) => String(a.requested_datetime).localeCompare(String(b.requested_datetime)) || String(a.service_request_id).localeCompare(String(b.service_request_id)));
    return merged.slice((page - 1) * pageSize, page * pageSize);
  }

  router.get('/requests.:format', handle(async (req, res) => {
    format(req);
    const q = req.query as Record<string, unknown>;
    const ids = param(q, 'service_request_id')?.split(',').map((s) => s.trim()).filter(Boolean) ?? null;
    res.json(await requests(req, q, ids?.length ? ids : null));
  }));

  router.get('/requests/:id.:format', handle(async (req, res) => {
    format(req);
    const q = req.query as Record<string, unknown>;
    const found = await requests(req, q, [String(req.params.id)]);
    if (!found.length) throw new Open311Error(404, `no request with service_request_id "${req.params.id}"`);
    res.json(found);
  }));

  router.post('/requests.:format', handle(async (req, res) => {
    format(req);
    const b = { ...(req.query as Record<string, unknown>), ...((req.body ?? {}) as Record<string, unknown>) };
    const auth = bearerOf(req, b);
    if (!auth) throw new Open311Error(401, 'api_key is required to submit a request');
    const need = (name: string) => {
      const v = param(b, name);
      if (v === undefined) throw new Open311Error(400, `${name} is required`);
      return v;
    };
    const coord = (name: string) => {
      const v = param(b, name);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isFinite(n)) throw new Open311Error(400, `${name} must be a number`);
      return n;
    };
    const lat = coord('lat');
    const long = coord('long');
    if ((lat === undefined) !== (long === undefined)) throw new Open311Error(400, 'give lat and long together');
    const reporter = ['first_name', 'last_name', 'phone', 'email'].some((k) => param(b, k) !== undefined)
      ? { firstName: param(b, 'first_name') ?? null, lastName: param(b, 'last_name') ?? null, phone: param(b, 'phone') ?? null, email: param(b, 'email') ?? null }
      : null;
    const idem = param(b, 'client_key') ?? (typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : undefined);
    const input = {
      clientKey: idem ?? null,
      // Optional: without it the request belongs to the jurisdiction of its 小区.
      jurisdictionId: param(b, 'jurisdiction_id') ?? null,
      communityId: need('address_id'),
      serviceCode: need('service_code'),
      channel: 'APP',
      description: need('description'),
      location: lat !== undefined ? { lat, long, datum: 'WGS84' } : null,
      addressString: param(b, 'address_string') ?? null,
      mediaUrls: param(b, 'media_url') ? [param(b, 'media_url')] : null,
      reporter,
    };
    const { data } = await gql<{ createServiceTicket: { id: string } }>(
      req, auth,
      'mutation Open311Post($input: CreateServiceTicketInput!) { createServiceTicket(input: $input) { id } }',
      { input },
    );
    res.status(201).json([{ service_request_id: data.createServiceTicket.id, service_notice: SERVICE_NOTICE, account_id: null }]);
  }));

  app.use('/open311/v2', router);
}
