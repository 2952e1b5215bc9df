import request, { type Response } from 'supertest';

/** What supertest can send to: an HTTP server, or a base URL. */
export type HttpTarget = Parameters<typeof request>[0];

export interface GraphQLResponse<TData = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: {
    data?: TData | null;
    errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
  };
}

export interface RequestOptions {
  token?: string | null;
  headers?: Record<string, string>;
  operationName?: string;
}

/**
 * A small GraphQL-over-HTTP client that keeps the admin bearer, in the style of Vendure's e2e client. Its
 * requests go through supertest: to `/graphql` of the app's HTTP server, or to a whole endpoint URL (a
 * gateway running in another process).
 */
export class GraphQLClient {
  constructor(
    readonly endpoint: HttpTarget,
    private token: string | null,
  ) {}

  withToken(token: string | null): GraphQLClient {
    return new GraphQLClient(this.endpoint, token);
  }

  async query<TData = Record<string, any>>(query: string, variables?: Record<string, unknown>, options: RequestOptions = {}): Promise<GraphQLResponse<TData>> {
    const token = options.token === undefined ? this.token : options.token;
    const response = await request(this.endpoint)
      .post(typeof this.endpoint === 'string' ? '' : '/graphql')
      .set({
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...options.headers,
      })
      .send(JSON.stringify({ query, variables, operationName: options.operationName }));
    let body: GraphQLResponse<TData>['body'];
    try {
      body = JSON.parse(response.text);
    } catch {
      throw new Error(`non-JSON response (HTTP ${response.status}): ${String(response.text).slice(0, 200)}`);
    }
    return { status: response.status, headers: headersOf(response), body };
  }
}

/** A supertest response's headers as a fetch `Headers`, so assertions read `headers.get(name)` either way. */
export function headersOf(response: Response): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(response.headers as Record<string, string | string[] | undefined>)) {
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, one);
  }
  return headers;
}

/** The first error's code, for terse assertions. */
export function errorCode(response: GraphQLResponse<unknown>): unknown {
  return response.body.errors?.[0]?.extensions?.code;
}
