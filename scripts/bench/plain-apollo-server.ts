/**
 * The comparison: what someone would write instead of the gateway. A minimal standalone `@apollo/server`
 * on Express 5 with the same `balances` query, resolved by the same upstream call (GET the customer's
 * virtual currencies from RevenueCat, one page of 100) over a keep-alive agent, behind a constant-time
 * bearer check. No Nest, no validation pipes, no rate limits, no query limits, no logging, no metrics.
 *
 * With PLAIN_PLATFORM=standalone it is Apollo's own `startStandaloneServer` instead: bare `node:http`
 * with `cors` and body-parser, no Express, the bearer checked in the context function (401 before any
 * resolver runs). That is Apollo Server 5's quickest documented way to serve, and the strictest floor.
 *
 * Configuration (environment): UPSTREAM_URL (RevenueCat base URL ending /v2), UPSTREAM_API_KEY,
 * UPSTREAM_PROJECT_ID, ADMIN_SECRET; PLAIN_PLATFORM (express, the default, or standalone). Runs as a
 * benchmark child (IPC) or by hand (PORT, default 0).
 */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { GraphQLError } from 'graphql';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { failStart, serveChild } from './lib/child-side';
import { bearerMatches, plainUpstream, required } from './lib/plain-upstream';

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

async function main(): Promise<void> {
  const upstream = plainUpstream();
  const secret = Buffer.from(required('ADMIN_SECRET'));

  const server = new ApolloServer({
    typeDefs,
    resolvers: {
      Query: {
        balances: (_: unknown, args: { userId: string; includeEmpty: boolean }) => upstream.listBalances(args.userId, args.includeEmpty),
      },
    },
  });
  const platform = process.env.PLAIN_PLATFORM ?? 'express';
  if (platform !== 'express' && platform !== 'standalone') throw new Error(`PLAIN_PLATFORM must be express or standalone, got ${platform}`);
  if (platform === 'standalone') {
    const { url } = await startStandaloneServer(server, {
      listen: { port: Number(process.env.PORT ?? 0), host: '127.0.0.1' },
      context: async ({ req }: { req: IncomingMessage }) => {
        if (!bearerMatches(req.headers.authorization, secret)) throw new GraphQLError('unauthorized', { extensions: { http: { status: 401 } } });
        return {};
      },
    });
    serveChild(Number(new URL(url).port), {
      close: async () => {
        await server.stop();
        upstream.destroy();
      },
    });
    return;
  }
  await server.start();

  const app = express();
  app.disable('x-powered-by');
  app.use('/graphql', (req, res, next) => {
    if (!bearerMatches(req.headers.authorization, secret)) {
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
      upstream.destroy();
    },
  });
}

main().catch((error: unknown) => failStart('The plain Apollo server', error));
