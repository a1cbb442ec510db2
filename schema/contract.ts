/**
 * Contracts: filtered API schemas built from `@tag` directives, without GraphOS. A contract is
 * defined in `schema/contracts/contracts.yaml` (include / exclude tags). `npm run compose` writes,
 * for every contract `<name>`:
 *   - `schema/contracts/<name>.graphql`            the contract's API schema (what its clients see);
 *   - `schema/contracts/<name>.supergraph.graphql` the supergraph a gateway started with
 *     `--contract <name>` serves: the full supergraph where every element outside the contract is
 *     `@inaccessible`, so @apollo/gateway rejects it as an unknown field.
 *
 * Semantics (the same as Apollo contracts): an object, interface or union type is in the contract
 * when it carries an included tag; a field is in when it or its type carries an included tag and
 * it carries no excluded tag. Arguments, input types, enums and custom scalars carry no tags of
 * their own in our SDLs: they follow the fields that use them (they get the first included tag
 * unless they are tagged explicitly), and any left unreachable from the contract's root fields
 * are hidden as well.
 *
 * Building blocks: `applyTagFilterOnSubgraphs` and `addInaccessibleToUnreachableTypes` from
 * `@theguild/federation-composition` (MIT, the offline equivalent of GraphOS contracts); the
 * filtered subgraphs are then composed with `@apollo/composition`, the gateway's own composer.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  addInaccessibleToUnreachableTypes,
  applyTagFilterOnSubgraphs,
  extractLinkImplementations,
} from '@theguild/federation-composition';
import { Supergraph } from '@apollo/federation-internals';
import { Kind, parse, printSchema, visit, type ConstDirectiveNode, type DocumentNode } from 'graphql';
import YAML from 'yaml';
import { stripAccessDirectives } from '../lib/auth/sdl';
import { composeDocuments, parseSubgraphs, SCHEMA_DIR, type CompositionReport, type SubgraphEntry } from './composition';

export const CONTRACTS_DIR = path.join(SCHEMA_DIR, 'contracts');
export const CONTRACTS_YAML = path.join(CONTRACTS_DIR, 'contracts.yaml');

export interface ContractDefinition {
  name: string;
  description?: string;
  include: string[];
  exclude: string[];
}

export const contractApiFile = (name: string, dir = CONTRACTS_DIR) => path.join(dir, `${name}.graphql`);
export const contractSupergraphFile = (name: string, dir = CONTRACTS_DIR) => path.join(dir, `${name}.supergraph.graphql`);

export function readContracts(file = CONTRACTS_YAML): ContractDefinition[] {
  return parseContracts(readFileSync(file, 'utf8'), file);
}

export function parseContracts(text: string, file = 'contracts.yaml'): ContractDefinition[] {
  const doc = YAML.parse(text) as { contracts?: Record<string, Partial<ContractDefinition>> };
  return Object.entries(doc?.contracts ?? {}).map(([name, c]) => {
    if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`${file}: contract name "${name}" must match [a-z][a-z0-9-]*`);
    const include = c?.include ?? [];
    const exclude = c?.exclude ?? [];
    if (!include.length && !exclude.length) throw new Error(`${file}: contract "${name}" needs include and/or exclude tags`);
    return { name, description: c?.description, include, exclude };
  });
}

/** Composes the contract supergraph and its API schema from the subgraphs. */
export function composeContract(subgraphs: SubgraphEntry[], contract: ContractDefinition): CompositionReport {
  const { docs, errors } = parseSubgraphs(subgraphs);
  if (errors.length) return composeDocuments(subgraphs, docs); // reports the syntax errors the same way
  const defaultTag = contract.include[0];
  const tagged = subgraphs.map((s) => ({
    name: s.name,
    url: s.url,
    // Access rules are enforced by the subgraphs; a contract's API carries none (lib/auth/sdl.ts).
    typeDefs: defaultTag ? tagFollowers(stripAccessDirectives(docs.get(s.name)!), defaultTag) : stripAccessDirectives(docs.get(s.name)!),
  }));
  const filtered = applyTagFilterOnSubgraphs(tagged, { include: new Set(contract.include), exclude: new Set(contract.exclude) });
  const filteredDocs = new Map<string, DocumentNode>(filtered.map((s) => [s.name, s.typeDefs]));
  const composed = composeDocuments(subgraphs, filteredDocs);
  if (!composed.ok || !composed.supergraphSdl || !composed.apiSdl) {
    return {
      ...composed,
      errors: composed.errors.map((e) => `contract "${contract.name}": ${e}`),
    };
  }
  return { ...composed, ...hideUnreachable(composed.supergraphSdl, composed.apiSdl) };
}

/**
 * Gives the contract's first included tag to arguments, input types (and their fields), enums and
 * custom scalars that carry no tag at all: they follow the fields that use them.
 */
export function tagFollowers(doc: DocumentNode, tag: string): DocumentNode {
  const tagName = tagDirectiveName(doc);
  const directive: ConstDirectiveNode = {
    kind: Kind.DIRECTIVE,
    name: { kind: Kind.NAME, value: tagName },
    arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'name' }, value: { kind: Kind.STRING, value: tag } }],
  };
  const add = <T extends { directives?: readonly ConstDirectiveNode[] }>(node: T): T =>
    node.directives?.some((d) => d.name.value === tagName) ? node : { ...node, directives: [...(node.directives ?? []), directive] };
  return visit(doc, {
    InputValueDefinition: add,
    ScalarTypeDefinition: add,
    ScalarTypeExtension: add,
    EnumTypeDefinition: add,
    EnumTypeExtension: add,
    InputObjectTypeDefinition: add,
    InputObjectTypeExtension: add,
  });
}

/** `tag` when the subgraph imports `@tag` (possibly renamed), `federation__tag` otherwise. */
function tagDirectiveName(doc: DocumentNode): string {
  try {
    const name = extractLinkImplementations(doc).resolveImportName('https://specs.apollo.dev/federation', '@tag');
    return name.replace(/^@/, '');
  } catch {
    return 'tag';
  }
}

/** Marks types unreachable from the contract's root fields @inaccessible (supergraph and API). */
function hideUnreachable(supergraphSdl: string, apiSdl: string): { supergraphSdl: string; apiSdl: string } {
  const supergraphDocumentNode = parse(supergraphSdl);
  const { resolveImportName, links } = extractLinkImplementations(supergraphDocumentNode);
  // Adding @inaccessible needs the inaccessible spec linked in the supergraph; it is whenever the
  // tag filter hid anything. Without it nothing is hidden and unreachable types are harmless.
  if (!links.some((l) => l.identity === 'https://specs.apollo.dev/inaccessible')) return { supergraphSdl, apiSdl };
  // The supergraph may import it renamed (`{name: "@inaccessible", as: "@federation__inaccessible"}`),
  // which the helper's own name resolution does not read.
  const renamed = /specs\.apollo\.dev\/inaccessible\/[^)]*as:\s*"@(\w+)"/.exec(supergraphSdl)?.[1];
  const resolve = (identity: string, name: string) =>
    identity === 'https://specs.apollo.dev/inaccessible' && name === '@inaccessible' && renamed ? renamed : resolveImportName(identity, name);
  const result = addInaccessibleToUnreachableTypes(resolve, {
    supergraphDocumentNode,
    publicDocumentNode: parse(apiSdl),
  });
  return { supergraphSdl: result.supergraphSdl, apiSdl: apiSchemaOf(result.supergraphSdl) };
}

/** The API schema of a supergraph, exactly as @apollo/gateway derives it. */
export function apiSchemaOf(supergraphSdl: string): string {
  return printSchema(Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema());
}
