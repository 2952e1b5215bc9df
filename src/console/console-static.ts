import fastifyStatic from '@fastify/static';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { errorBody, Errors, type GatewayError } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

export const CONSOLE_PREFIX = '/console';

/**
 * Only the gateway's own origin, no inline script or style, nothing framed. `connect-src 'self'` covers the
 * same-origin graphql-ws socket too (CSP3 matches ws: and wss: of the page's own host), as Chromium does.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

const HASHED_ASSETS = '/console/assets/';
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Serves the built support console at /console/ with @fastify/static, in a Fastify context of its own so that
 * its headers, fallback and not-found answers apply to /console alone: every other path keeps the app's own
 * hooks and answers. Registered in onModuleInit, before Fastify is ready, like GraphqlHttpGate's hooks.
 * No authentication here: these are static files, and the console's GraphQL calls carry the credential.
 */
@Injectable()
export class ConsoleStatic implements OnModuleInit {
  private readonly logger = new Logger(ConsoleStatic.name);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const root = this.config.consoleDir;
    const built = existsSync(join(root, 'index.html'));
    if (!built) this.logger.warn(`The support console is not built (no ${join(root, 'index.html')}): /console/ answers console_not_built. Run npm run build.`);
    // Named: Fastify labels the plugin's hooks (and their trace spans) with its function's name, else its source.
    void fastify.register(
      async function supportConsole(instance) {
        instance.addHook('onRequest', (_request, reply, done) => {
          void reply.headers({ 'content-security-policy': CONSOLE_CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
          done();
        });
        // `/console` has no trailing slash: relative asset URLs would resolve against `/`.
        instance.get('', (request, reply) => reply.redirect(`${CONSOLE_PREFIX}/${queryOf(request.url)}`, 301));
        if (built) await serveBuilt(instance, root);
        else instance.all('/*', (request, reply) => sendError(request, reply, Errors.consoleNotBuilt()));
      },
      { prefix: CONSOLE_PREFIX },
    );
  }
}

async function serveBuilt(instance: FastifyInstance, root: string): Promise<void> {
  await instance.register(fastifyStatic, {
    root,
    // One wildcard route for every file (one route label, whatever the path), the index at `/console/`.
    prefix: '/',
    wildcard: true,
    index: 'index.html',
    serveDotFiles: false,
    // Vite fingerprints what it puts in assets/; anything else (index.html above all) is checked every time.
    cacheControl: false,
    setHeaders: (reply, path) => {
      void reply.header('cache-control', path.startsWith(join(root, 'assets')) ? IMMUTABLE : 'no-cache');
    },
  });
  // @fastify/static refuses a path that leaves its root (`..`, a NUL) with 403 of its own: the catalogue's 404.
  instance.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    if (error.statusCode === 403 || error.statusCode === 404) return sendError(request, reply, Errors.consoleFileNotFound());
    throw error;
  });
  // A view's URL (`/console/customers/user_1`) is not a file: the app's index.html answers it and its router
  // shows the view (a user id may hold a dot, so `/console/x.js` is a view too). A missing file under
  // assets/, or a dot segment, is a 404, never the index.
  instance.setNotFoundHandler((request, reply) => {
    if ((request.method !== 'GET' && request.method !== 'HEAD') || !isViewPath(request.url)) {
      return sendError(request, reply, Errors.consoleFileNotFound());
    }
    return reply.code(200).header('cache-control', 'no-cache').sendFile('index.html', root, { cacheControl: false });
  });
}

/** A path the console's router could own: under /console/, not under assets/, with no `.` or `..` segment even once decoded. */
export function isViewPath(url: string): boolean {
  const path = url.split('?')[0];
  if (!path.startsWith(`${CONSOLE_PREFIX}/`) || path.startsWith(HASHED_ASSETS)) return false;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return false;
  }
  return !decoded.split(/[/\\]/).some((segment) => segment === '.' || segment === '..') && !decoded.includes('\0');
}

function queryOf(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? '' : url.slice(at);
}

function sendError(request: FastifyRequest, reply: FastifyReply, error: GatewayError): FastifyReply {
  return reply.code(error.status).header('cache-control', 'no-store').type('application/json; charset=utf-8').send(errorBody(error, request.id));
}
