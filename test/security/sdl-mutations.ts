/**
 * Mutations of each bureau subgraph, read from its SDL, with dummy arguments that pass GraphQL
 * validation: the matrix test sends each one to see whether the caller gets past authorization
 * (allowed: the resolver runs and may refuse the dummy input; denied: UNAUTHENTICATED/FORBIDDEN).
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
import { BUREAU_SUBGRAPHS } from '../../lib/auth/roles';

const sdlOf = (sg: string) => readFileSync(path.join(__dirname, '../../schema', `${sg}.graphql`), 'utf8');
export const schemaOf = (sg: string) => buildSubgraphSchema({ typeDefs: parse(sdlOf(sg)) });

export function mutationsBySubgraph(): Record<string, string[]> {
  return Object.fromEntries(BUREAU_SUBGRAPHS.map((sg) => [sg, Object.keys(schemaOf(sg).getMutationType()?.getFields() ?? {})]));
}

export function dummy(type: GraphQLInputType, depth = 0): string | null {
  if (isNonNullType(type)) return dummy(type.ofType, depth);
  if (isListType(type)) {
    const inner = dummy(type.ofType, depth);
    return inner === null ? '[]' : `[${inner}]`;
  }
  const named = getNamedType(type);
  if (isEnumType(named)) return named.getValues()[0]!.name;
  if (isInputObjectType(named)) {
    if (depth > 4) return null;
    const parts = Object.values(named.getFields())
      .filter((f) => isNonNullType(f.type) && f.defaultValue === undefined)
      .map((f) => `${f.name}: ${dummy(f.type, depth + 1)}`);
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

/** `mutation { name(requiredArgs...) { __typename } }` for every mutation of a subgraph. */
export function mutationCalls(sg: string): { name: string; query: string }[] {
  const m = schemaOf(sg).getMutationType();
  return Object.values(m?.getFields() ?? {}).map((f) => {
    const args = f.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined).map((a) => `${a.name}: ${dummy(a.type)}`);
    const isLeaf = isScalarType(getNamedType(f.type)) || isEnumType(getNamedType(f.type));
    return { name: f.name, query: `mutation { ${f.name}${args.length ? `(${args.join(', ')})` : ''}${isLeaf ? '' : ' { __typename }'} }` };
  });
}
