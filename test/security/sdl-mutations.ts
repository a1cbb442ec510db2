/**
 * Mutations of each bureau subgraph, read from its SDL, with dummy arguments that pass GraphQL
 * validation: the matrix test sends each one to see whether the caller gets past authorization
 * (allowed: the resolver runs and may refuse the dummy input; denied: UNAUTHENTICATED/FORBIDDEN).
 * The argument a mutation's `@rowScope(target:)` names gets a real row id of its `targetType`, so
 * the area check meets a real row (inside or outside the caller's area).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  parse,
  type GraphQLInputType,
} from 'graphql';
import { getDirective } from '@graphql-tools/utils';
import { BUREAU_SUBGRAPHS } from '../../lib/auth/roles';
import type { MutationDoc } from './matrix';

const sdlOf = (sg: string) => readFileSync(path.join(__dirname, '../../schema', `${sg}.graphql`), 'utf8');
const schemas = new Map<string, ReturnType<typeof buildSubgraphSchema>>();
export const schemaOf = (sg: string) => {
  if (!schemas.has(sg)) schemas.set(sg, buildSubgraphSchema({ typeDefs: parse(sdlOf(sg)) }));
  return schemas.get(sg)!;
};


/** A mutation's `@rowScope` target (argument path and type), or null when it is city-wide. */
function targetOf(sg: string, name: string): { path: string[]; type: string } | null {
  const schema = schemaOf(sg);
  const field = schema.getMutationType()!.getFields()[name]!;
  const args = getDirective(schema, field, 'rowScope')?.[0] as { target?: string; targetType?: string } | undefined;
  return args?.target ? { path: args.target.split('.'), type: args.targetType ?? 'Community' } : null;
}

export function mutationDocs(): Record<string, MutationDoc[]> {
  return Object.fromEntries(
    BUREAU_SUBGRAPHS.map((sg) => {
      const schema = schemaOf(sg);
      const fields = Object.values(schema.getMutationType()?.getFields() ?? {});
      return [
        sg,
        fields.map((f) => {
          const scopes = (getDirective(schema, f, 'requiresScopes')?.[0]?.scopes as string[][] | undefined) ?? [];
          const t = targetOf(sg, f.name);
          return { name: f.name, scopes: scopes.map((alt) => alt.map((x) => `\`${x}\``).join(' + ')).join(' or ') || '—', target: t ? `${t.type} \`${t.path.join('.')}\`` : null };
        }),
      ];
    }),
  );
}

/** `override`: a literal for the input field/argument at this path (the target id). */
export function dummy(type: GraphQLInputType, depth = 0, at: string[] = [], override?: { path: string[]; value: string }): string | null {
  if (override && at.join('.') === override.path.join('.')) return JSON.stringify(override.value);
  if (isNonNullType(type)) return dummy(type.ofType, depth, at, override);
  if (isListType(type)) {
    const inner = dummy(type.ofType, depth, at, override);
    return inner === null ? '[]' : `[${inner}]`;
  }
  const named = getNamedType(type);
  if (isEnumType(named)) return named.getValues()[0]!.name;
  if (isInputObjectType(named)) {
    if (depth > 4) return null;
    const parts = Object.values(named.getFields())
      .filter((f) => (isNonNullType(f.type) && f.defaultValue === undefined) || override?.path.join('.') === [...at, f.name].join('.'))
      .map((f) => `${f.name}: ${dummy(f.type, depth + 1, [...at, f.name], override)}`);
    return `{ ${parts.join(', ')} }`;
  }
  if (isScalarType(named)) {
    switch (named.name) {
      case 'Int':
      case 'SafeInt':
        return '1';
      case 'Float':
        return '1.5';
      case 'Boolean':
        return 'false';
      case 'DateTime':
        return '"2020-01-01T00:00:00.000Z"';
      default:
        return '"matrix-dummy-0001"';
    }
  }
  return null;
}

/**
 * `mutation { name(requiredArgs...) { __typename } }` for every mutation of a subgraph; the target
 * argument gets `targetIds[targetType]` (a dummy id when the test has none of that type).
 */
export function mutationCalls(sg: string, targetIds: Record<string, string> = {}): { name: string; query: string; target: string | null }[] {
  const m = schemaOf(sg).getMutationType();
  return Object.values(m?.getFields() ?? {}).map((f) => {
    const t = targetOf(sg, f.name);
    const override = t && targetIds[t.type] ? { path: t.path, value: targetIds[t.type]! } : undefined;
    const args = f.args
      .filter((a) => (isNonNullType(a.type) && a.defaultValue === undefined) || override?.path[0] === a.name)
      .map((a) => `${a.name}: ${dummy(a.type, 0, [a.name], override)}`);
    const isLeaf = isScalarType(getNamedType(f.type)) || isEnumType(getNamedType(f.type));
    return { name: f.name, target: t?.type ?? null, query: `mutation { ${f.name}${args.length ? `(${args.join(', ')})` : ''}${isLeaf ? '' : ' { __typename }'} }` };
  });
}
