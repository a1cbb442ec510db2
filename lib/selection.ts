/**
 * What a resolver's field selects: lets a resolver start a read the query will need one level down
 * (e.g. a contract's company) together with its own, instead of one database round trip later.
 */
import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * True when the field being resolved selects a sub-field named `name` (directly, or in an inline
 * fragment or a named fragment at its level). `@skip`/`@include` are not evaluated: a field they
 * remove still counts, which at worst starts a read nobody uses.
 */
export function selectsField(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>, name: string): boolean {
  const seen = new Set<string>();
  const inSet = (set: SelectionSetNode | undefined): boolean => {
    if (!set) return false;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value === name) return true;
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        if (inSet(sel.selectionSet)) return true;
      } else if (!seen.has(sel.name.value)) {
        seen.add(sel.name.value);
        if (inSet(info.fragments[sel.name.value]?.selectionSet)) return true;
      }
    }
    return false;
  };
  return info.fieldNodes.some((node) => inSet(node.selectionSet));
}
