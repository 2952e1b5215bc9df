/** GraphQL over HTTP and graphql-ws share one path on one port. */
export const GRAPHQL_PATH = '/graphql';
