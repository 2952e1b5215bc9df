import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The gateway serves the built files at /console/; `npm run dev:console` proxies the API to a running
// gateway (GATEWAY_URL, default the demo's http://127.0.0.1:3000) so the page keeps one origin.
const gateway = process.env.GATEWAY_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // One small bundle: nothing worth splitting, and no inline scripts or styles for the CSP to allow.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  server: {
    proxy: { '/graphql': { target: gateway, ws: true, changeOrigin: false } },
  },
  preview: {
    proxy: { '/graphql': { target: gateway, ws: true, changeOrigin: false } },
    // The policy the gateway serves the console with, so `vite preview` shows any violation the same way.
    headers: {
      'content-security-policy':
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    },
  },
  test: {
    include: ['src/**/*.spec.ts'],
    environment: 'node',
  },
});
