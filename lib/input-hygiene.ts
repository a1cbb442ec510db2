/**
 * Text input hygiene for every subgraph (applied by the factory, lib/subgraph-server.ts):
 *
 * - Refused, with BAD_USER_INPUT naming the argument path (`createTicket.input.description`,
 *   `items[2].name`): C0 and C1 control characters and DEL (U+0000-U+001F, U+007F-U+009F) except
 *   tab and newline; the bidirectional embedding, override and isolate controls U+202A-U+202E and
 *   U+2066-U+2069 (the "Trojan Source" set, which reorder what a reader sees); unpaired surrogates
 *   (not Unicode text: they break UTF-8 exports). The implicit direction marks U+200E, U+200F and
 *   U+061C stay allowed: they cannot reorder a run of text, only attach neutral characters to a
 *   side, and mixed-script text (e.g. Uyghur with Chinese) legitimately uses them.
 * - Normalised to Unicode NFC before any resolver sees it ('e' + U+0301 is stored as 'é'), so equal
 *   text is stored as equal strings.
 *
 * The check runs on the whole operation once it is resolved and before anything executes (every
 * field's arguments, literals and variables alike, after coercion), so a refused mutation writes
 * nothing, not even its earlier fields. Every scalar whose value is a string is checked (String, ID
 * and string-valued custom scalars), except the federation's `_Any` (entity representations the
 * gateway builds from key fields). NFC is applied by wrapping the resolvers of fields with text
 * arguments.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  getArgumentValues,
  getNamedType,
  getNullableType,
  getVariableValues,
  GraphQLError,
  isInputObjectType,
  isListType,
  isObjectType,
  isScalarType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { ErrorCode } from './errors';

/** Scalars never checked or normalised: entity representations built by the gateway. */
const SKIPPED_SCALARS = new Set(['_Any', '_FieldSet', 'FieldSet', 'link__Import', 'federation__FieldSet']);

// C0 except tab (U+0009) and newline (U+000A), DEL and C1; bidi embeddings/overrides and isolates.
const FORBIDDEN = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/u;

const NAMES: Record<number, string> = {
  0x0d: 'CARRIAGE RETURN',
  0x85: 'NEXT LINE',
  0x202a: 'LEFT-TO-RIGHT EMBEDDING',
  0x202b: 'RIGHT-TO-LEFT EMBEDDING',
  0x202c: 'POP DIRECTIONAL FORMATTING',
  0x202d: 'LEFT-TO-RIGHT OVERRIDE',
  0x202e: 'RIGHT-TO-LEFT OVERRIDE',
  0x2066: 'LEFT-TO-RIGHT ISOLATE',
  0x2067: 'RIGHT-TO-LEFT ISOLATE',
  0x2068: 'FIRST STRONG ISOLATE',
  0x2069: 'POP DIRECTIONAL ISOLATE',
};

// Without the u flag, so surrogate halves are matched one by one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const hex = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

/** Why `text` is refused, or undefined when it is acceptable. */
export function textProblem(text: string): string | undefined {
  const m = FORBIDDEN.exec(text);
  if (m) {
    const cp = m[0].codePointAt(0)!;
    const name = NAMES[cp] ? ` (${NAMES[cp]})` : '';
    return cp >= 0x202a
      ? `contains the bidirectional control character ${hex(cp)}${name}, which changes how the text is displayed; remove it`
      : `contains the control character ${hex(cp)}${name}; only tab and newline are allowed`;
  }
  if (LONE_SURROGATE.test(text)) return 'is not well-formed Unicode (an unpaired surrogate)';
  return undefined;
}

/** NFC of a string; leaves other values as they are. */
export const nfc = <T>(v: T): T => (typeof v === 'string' ? (v.normalize('NFC') as T) : v);

type Problem = { path: string; message: string };

/** The first refused text in `value` of input type `type` (coerced), with its path. */
function findProblem(value: unknown, type: GraphQLInputType, path: string): Problem | undefined {
  if (value === null || value === undefined) return undefined;
  const t = getNullableType(type) as GraphQLInputType;
  if (isListType(t)) {
    if (!Array.isArray(value)) return findProblem(value, t.ofType, path);
    for (let i = 0; i < value.length; i++) {
      const p = findProblem(value[i], t.ofType, `${path}[${i}]`);
      if (p) return p;
    }
    return undefined;
  }
  if (isInputObjectType(t)) {
    const fields = t.getFields();
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const f = fields[k];
      const p = f ? findProblem(v, f.type, `${path}.${k}`) : undefined;
      if (p) return p;
    }
    return undefined;
  }
  if (isScalarType(t) && !SKIPPED_SCALARS.has(t.name) && typeof value === 'string') {
    const message = textProblem(value);
    return message ? { path, message } : undefined;
  }
  return undefined;
}

/** The same walk, returning the value with every string normalised to NFC (new objects, no mutation). */
function normalise(value: unknown, type: GraphQLInputType): unknown {
  if (value === null || value === undefined) return value;
  const t = getNullableType(type) as GraphQLInputType;
  if (isListType(t)) return Array.isArray(value) ? value.map((v) => normalise(v, t.ofType)) : normalise(value, t.ofType);
  if (isInputObjectType(t)) {
    const fields = t.getFields();
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = fields[k] ? normalise(v, fields[k].type) : v;
    return out;
  }
  if (isScalarType(t) && !SKIPPED_SCALARS.has(t.name)) return nfc(value);
  return value;
}

/** `holdsText` per named input type (a schema's types do not change once built). */
const holdsTextCache = new WeakMap<object, boolean>();

/** True when a value of this input type can hold text (a string-valued scalar somewhere inside). */
function holdsText(type: GraphQLInputType, seen?: Set<string>): boolean {
  const named = getNamedType(type);
  if (seen) return holdsTextUncached(named, seen);
  let known = holdsTextCache.get(named);
  if (known === undefined) holdsTextCache.set(named, (known = holdsTextUncached(named, new Set())));
  return known;
}

function holdsTextUncached(named: ReturnType<typeof getNamedType>, seen: Set<string>): boolean {
  if (isScalarType(named)) return !SKIPPED_SCALARS.has(named.name) && named.name !== 'Int' && named.name !== 'Float' && named.name !== 'Boolean';
  if (isInputObjectType(named)) {
    if (seen.has(named.name)) return false;
    seen.add(named.name);
    return Object.values(named.getFields()).some((f) => holdsText(f.type, seen));
  }
  return false;
}

/**
 * The first refused text among the arguments of every field of the operation (fragments included),
 * or undefined. Variables that do not coerce are left to execution (its own error).
 */
export function findTextProblem(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): Problem | undefined {
  // Most operations (every `_entities` fetch of the gateway, statistics with enum arguments) have no
  // argument that can hold text: known per parsed operation, they skip the walk below.
  if (!mayHoldText(schema, document, operation)) return undefined;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
  if (coerced.errors) return undefined;
  const typeInfo = new TypeInfo(schema);
  let problem: Problem | undefined;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      // Only this operation and the fragments (other operations of the document are not run).
      OperationDefinition: (node) => (node === operation ? undefined : false),
      Field(node) {
        if (problem || !node.arguments?.length) return;
        const def = typeInfo.getFieldDef();
        if (!def || !def.args.some((a) => holdsText(a.type))) return;
        let args: Record<string, unknown>;
        try {
          args = getArgumentValues(def, node, coerced.coerced);
        } catch {
          return; // left to execution
        }
        for (const a of def.args) {
          const p = findProblem(args[a.name], a.type, `${node.name.value}.${a.name}`);
          if (p) {
            problem = p;
            return;
          }
        }
      },
    }),
  );
  return problem;
}

/** Per schema, per parsed operation (Apollo reuses the parsed document of a repeated query): whether any of its fields has an argument that can hold text. */
const textArgsCache = new WeakMap<GraphQLSchema, WeakMap<OperationDefinitionNode, boolean>>();

function mayHoldText(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): boolean {
  let perSchema = textArgsCache.get(schema);
  if (!perSchema) textArgsCache.set(schema, (perSchema = new WeakMap()));
  let known = perSchema.get(operation);
  if (known !== undefined) return known;
  const typeInfo = new TypeInfo(schema);
  known = false;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      OperationDefinition: (node) => (node === operation ? undefined : false),
      Field(node) {
        if (known || !node.arguments?.length) return;
        // A field the schema does not know is left to validation; count it as text-bearing (the full walk runs).
        const def = typeInfo.getFieldDef();
        if (!def || def.args.some((a) => holdsText(a.type))) known = true;
      },
    }),
  );
  perSchema.set(operation, known);
  return known;
}

/** Apollo plugin: refuses the whole operation before execution when a text input is refused. */
export function inputHygienePlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          if (!operation || operation.kind !== Kind.OPERATION_DEFINITION) return;
          const p = findTextProblem(schema, document, operation, request.variables);
          if (p) throw new GraphQLError(`${p.path}: ${p.message}`, { extensions: { code: ErrorCode.BAD_USER_INPUT, field: p.path, http: { status: 400 } } });
        },
      };
    },
  };
}

/**
 * Wraps (in place) the resolver of every field with text arguments so it receives them in NFC.
 * Call after every other in-place wrapping, so the normalised arguments reach all of them.
 */
export function normaliseTextArguments(schema: GraphQLSchema): void {
  for (const type of Object.values(schema.getTypeMap())) {
    // Interface fields are resolved by the implementing objects' resolvers.
    if (type.name.startsWith('__') || !isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const textArgs = field.args.filter((a) => holdsText(a.type));
      const resolve = field.resolve;
      // The default resolver reads a property; arguments change nothing there.
      if (!textArgs.length || !resolve) continue;
      field.resolve = (source, args: Record<string, unknown>, ctx, info) => {
        const out = { ...args };
        for (const a of textArgs) if (out[a.name] !== undefined) out[a.name] = normalise(out[a.name], a.type);
        return resolve(source, out, ctx, info);
      };
    }
  }
}
