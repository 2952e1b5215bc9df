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

/** A small GraphQL-over-HTTP client that keeps the admin bearer, in the style of Vendure's e2e client. */
export class GraphQLClient {
  constructor(
    readonly url: string,
    private token: string | null,
  ) {}

  withToken(token: string | null): GraphQLClient {
    return new GraphQLClient(this.url, token);
  }

  async query<TData = Record<string, any>>(
    query: string,
    variables?: Record<string, unknown>,
    options: RequestOptions = {},
  ): Promise<GraphQLResponse<TData>> {
    const token = options.token === undefined ? this.token : options.token;
    const response = await fetch(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...options.headers,
      },
      body: JSON.stringify({ query, variables, operationName: options.operationName }),
    });
    const text = await response.text();
    let body: GraphQLResponse<TData>['body'];
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`non-JSON response (HTTP ${response.status}): ${text.slice(0, 200)}`);
    }
    return { status: response.status, headers: response.headers, body };
  }
}

/** The first error's code, for terse assertions. */
export function errorCode(response: GraphQLResponse<unknown>): unknown {
  return response.body.errors?.[0]?.extensions?.code;
}
