/**
 * SDL helpers for the access directives. A contract (a filtered API schema such as `public`) does
 * not carry access rules: its fields are public by definition and the subgraphs enforce the rules
 * anyway, so the contract build composes the subgraphs without them.
 */
import { Kind, visit, type DocumentNode } from 'graphql';

const ACCESS_DIRECTIVES = new Set(['authenticated', 'requiresScopes', 'policy', 'rowScope', 'pii', 'federation__authenticated', 'federation__requiresScopes', 'federation__policy']);
const ACCESS_LINK = 'city-community-graph.example/access/';

/** Removes access-directive applications, their definitions, enums and the composeDirective links. */
export function stripAccessDirectives(doc: DocumentNode): DocumentNode {
  return visit(doc, {
    Directive(node) {
      if (ACCESS_DIRECTIVES.has(node.name.value)) return null;
      if (node.name.value === 'composeDirective') {
        const name = node.arguments?.find((a) => a.name.value === 'name')?.value;
        if (name?.kind === Kind.STRING && ACCESS_DIRECTIVES.has(name.value.replace(/^@/, ''))) return null;
      }
      if (node.name.value === 'link') {
        const url = node.arguments?.find((a) => a.name.value === 'url')?.value;
        if (url?.kind === Kind.STRING && url.value.includes(ACCESS_LINK)) return null;
      }
      return undefined;
    },
    DirectiveDefinition(node) {
      return ACCESS_DIRECTIVES.has(node.name.value) ? null : undefined;
    },
    EnumTypeDefinition(node) {
      return node.name.value === 'RowScopeKey' || node.name.value === 'PiiCategory' ? null : undefined;
    },
  });
}
