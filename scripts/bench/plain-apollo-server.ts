/**
 * The comparison: what someone would write instead of the gateway. A minimal standalone `@apollo/server`
 * on Express 5 with the same `balances` query, resolved by the same upstream call (GET the customer's
 * virtual currencies from RevenueCat, one page of 100) over a keep-alive agent, behind a constant-time
 * bearer check. No Nest, no validation pipes, no rate limits, no query limits, no logging, no metrics.
 *
 * Configuration (environment): UPSTREAM_URL (RevenueCat base URL ending /v2), UPSTREAM_API_KEY,
 * UPSTREAM_PROJECT_ID, ADMIN_SECRET. Runs as a benchmark child (IPC) or by hand (PORT, default 0).
 */
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { timingSafeEqual } from 'node:crypto';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { failStart, serveChild } from './lib/child-side';

const typeDefs = /* GraphQL */ `
  type CurrencyBalance {
    currency: String!
    name: String
    balance: Int!
  }
  type Query {
    balances(userId: ID!, includeEmpty: Boolean! = false): [CurrencyBalance!]!
  }
`;

interface WireBalance {
  currency_code: string;
  name?: string;
  balance: number;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set`);
  return value;
}

async function main(): Promise<void> {
  const upstream = new URL(required('UPSTREAM_URL').replace(/\/+$/, ''));
  const apiKey = required('UPSTREAM_API_KEY');
  const projectId = required('UPSTREAM_PROJECT_ID');
  const secret = Buffer.from(required('ADMIN_SECRET'));
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

  const server = new ApolloServer({
    typeDefs,
    resolvers: {
      Query: {
        balances: async (_: unknown, args: { userId: string; includeEmpty: boolean }) => {
          const query = `?limit=100${args.includeEmpty ? '&include_empty_balances=true' : ''}`;
          const page = (await getJson(`${basePath}${encodeURIComponent(args.userId)}/virtual_currencies${query}`)) as {
            items: WireBalance[];
          };
          return page.items.map((item) => ({ currency: item.currency_code, name: item.name ?? null, balance: item.balance }));
        },
      },
    },
  });
  await server.start();

  const app = express();
  app.disable('x-powered-by');
  app.use('/graphql', (req, res, next) => {
    const header = req.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? Buffer.from(header.slice(7)) : Buffer.alloc(0);
    if (token.length !== secret.length || !timingSafeEqual(token, secret)) {
      res.status(401).json({ errors: [{ message: 'unauthorized' }] });
      return;
    }
    next();
  });
  app.use('/graphql', express.json({ limit: '64kb' }), expressMiddleware(server));

  const http = await new Promise<import('node:http').Server>((resolve, reject) => {
    const listening = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(listening)));
  });
  const port = (http.address() as AddressInfo).port;
  serveChild(port, {
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await server.stop();
      agent.destroy();
    },
  });
}

main().catch((error: unknown) => failStart('The plain Apollo server', error));
