/**
 * The references' upstream call, shared by the plain `@apollo/server` and the minimal Nest app so both do
 * exactly the same work: GET one customer's virtual currencies (one page of 100) over a keep-alive
 * `node:http` agent, with the bearer key, parsed as JSON. Also their constant-time bearer check.
 */
import { timingSafeEqual } from 'node:crypto';
import { Agent, request } from 'node:http';

export interface ReferenceBalance {
  currency: string;
  name: string | null;
  balance: number;
}

interface WireBalance {
  currency_code: string;
  name?: string;
  balance: number;
}

export function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set`);
  return value;
}

/** The upstream client of a reference server, configured from UPSTREAM_URL, UPSTREAM_API_KEY, UPSTREAM_PROJECT_ID. */
export function plainUpstream(): { listBalances: (userId: string, includeEmpty: boolean) => Promise<ReferenceBalance[]>; destroy: () => void } {
  const upstream = new URL(required('UPSTREAM_URL').replace(/\/+$/, ''));
  const apiKey = required('UPSTREAM_API_KEY');
  const projectId = required('UPSTREAM_PROJECT_ID');
  // The same pool size as the gateway's RevenueCat client.
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });
  const basePath = `${upstream.pathname}/projects/${encodeURIComponent(projectId)}/customers/`;

  const getJson = (path: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path,
          method: 'GET',
          agent,
          headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
          timeout: 5_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) {
              reject(new Error(`upstream answered ${res.statusCode}`));
              return;
            }
            try {
              resolve(JSON.parse(text));
            } catch (error) {
              reject(error);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('upstream timeout')));
      req.on('error', reject);
      req.end();
    });

  return {
    listBalances: async (userId, includeEmpty) => {
      const query = `?limit=100${includeEmpty ? '&include_empty_balances=true' : ''}`;
      const page = (await getJson(`${basePath}${encodeURIComponent(userId)}/virtual_currencies${query}`)) as { items: WireBalance[] };
      return page.items.map((item) => ({ currency: item.currency_code, name: item.name ?? null, balance: item.balance }));
    },
    destroy: () => agent.destroy(),
  };
}

/** Whether an `Authorization` header carries `Bearer <secret>`, compared in constant time. */
export function bearerMatches(header: string | undefined, secret: Buffer): boolean {
  const value = header ?? '';
  const token = value.startsWith('Bearer ') ? Buffer.from(value.slice(7)) : Buffer.alloc(0);
  return token.length === secret.length && timingSafeEqual(token, secret);
}
