/**
 * How the gateway talks to subgraphs. Forwards the caller's identity (Authorization) and a request
 * id, so each subgraph can verify the token itself and logs can be correlated.
 */
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';

export interface GatewayContext {
  authorization?: string;
  requestId: string;
}

export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext & Record<string, any>> {
  constructor(
    readonly name: string,
    url: string,
  ) {
    super({ url });
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext & Record<string, any>>): void {
    if (!request.http) return;
    if (context?.authorization) request.http.headers.set('authorization', context.authorization);
    if (context?.requestId) request.http.headers.set('x-request-id', context.requestId);
  }
}
