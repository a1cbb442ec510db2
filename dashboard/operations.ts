/**
 * The dashboard's GraphQL operations (dashboard/operations/*.graphql), read the same way by the
 * build (the app imports them), the safelist manifest and `npm run schema:check`: one named
 * operation per definition, its body printed by graphql-js, so the text the browser sends is
 * exactly the text whose sha256 is in the manifest.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Kind, parse, print, Source, validate, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';

export const OPERATIONS_DIR = path.join(__dirname, 'operations');

export interface DashboardOperation {
  name: string;
  /** `dashboard/operations/<file>.graphql` */
  file: string;
  /** The printed operation: what the dashboard sends and what the safelist holds. */
  body: string;
  document: DocumentNode;
}

/** Every operation of every file; refuses anonymous operations, fragments and duplicate names. */
export function loadOperations(dir = OPERATIONS_DIR): DashboardOperation[] {
  const out: DashboardOperation[] = [];
  const seen = new Map<string, string>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.graphql')).sort()) {
    const file = `dashboard/operations/${f}`;
    const doc = parse(new Source(readFileSync(path.join(dir, f), 'utf8'), file));
    for (const def of doc.definitions) {
      if (def.kind !== Kind.OPERATION_DEFINITION) throw new Error(`${file}: only operations are allowed (no fragments), found ${def.kind}`);
      if (!def.name) throw new Error(`${file}: every operation needs a name`);
      const name = def.name.value;
      if (seen.has(name)) throw new Error(`${file}: operation ${name} is already defined in ${seen.get(name)}`);
      seen.set(name, file);
      const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [def as OperationDefinitionNode] };
      out.push({ name, file, body: print(document), document });
    }
  }
  return out;
}

/** Operations as `{ name: body }`, for the app bundle. */
export function operationBodies(ops = loadOperations()): Record<string, string> {
  return Object.fromEntries(ops.map((o) => [o.name, o.body]));
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * An Apollo persisted query manifest (the format gateway/safelist.ts reads): `GATEWAY_SAFELIST_FILE`
 * pointing at it lets a gateway run exactly these operations.
 */
export function safelistManifest(ops = loadOperations()) {
  return {
    format: 'apollo-persisted-query-manifest',
    version: 1,
    operations: ops.map((o) => ({ id: sha256(o.body), name: o.name, type: (o.document.definitions[0] as OperationDefinitionNode).operation, body: o.body })),
  };
}

/** Validation errors of each operation against an API schema (`file: Operation: message`). */
export function validateOperations(schema: GraphQLSchema, ops = loadOperations()): string[] {
  const problems: string[] = [];
  for (const o of ops) {
    for (const e of validate(schema, o.document)) problems.push(`${o.file}: ${o.name}: ${e.message}`);
  }
  return problems;
}
