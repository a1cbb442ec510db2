import { DateTimeResolver, SafeIntResolver } from 'graphql-scalars';

/** Scalars shared by the subgraphs; each subgraph picks those its SDL declares. */
export const scalarResolvers = { DateTime: DateTimeResolver, SafeInt: SafeIntResolver };
