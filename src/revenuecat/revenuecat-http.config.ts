import type { AxiosRequestConfig } from 'axios';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { getProxyForUrl } from 'proxy-from-env';
import type { AppConfig } from '../config/app-config';

/**
 * The largest answer read, counted after decompression. A full page of 100 currencies with every field
 * at RevenueCat's own limits is far below this; beyond it axios cuts the answer off as it streams in.
 */
export const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * The axios instance of the RevenueCat client, as HttpModule.registerAsync builds it. Every request goes
 * to RevenueCat's origin (`allowAbsoluteUrls: false`: the key never follows an absolute URL elsewhere),
 * and every answer is handed back as text whatever its status: the client decides what a status means
 * and parses the body once. Redirects are not followed, as RevenueCat's API sends none.
 */
export function revenueCatHttpConfig(config: AppConfig): AxiosRequestConfig {
  const { apiUrl, apiKey, timeoutMs } = config.revenueCat;
  return {
    baseURL: new URL(apiUrl).origin,
    allowAbsoluteUrls: false,
    headers: {
      Authorization: `Bearer ${apiKey ?? ''}`,
      Accept: 'application/json',
      'User-Agent': 'credits-admin-gateway',
    },
    // The proxy environment is read once, here: without a proxy for RevenueCat's origin, axios would
    // otherwise look it up again on every call (BENCHMARKS.md). With one, axios keeps handling it.
    proxy: getProxyForUrl(apiUrl) ? undefined : false,
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 128 }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 128 }),
    // Until the connection is made, then a socket-idle timer; the client adds a deadline on each whole exchange.
    timeout: timeoutMs,
    transitional: { clarifyTimeoutError: true },
    maxContentLength: MAX_ANSWER_BYTES,
    maxBodyLength: MAX_ANSWER_BYTES,
    maxRedirects: 0,
    responseType: 'text',
    validateStatus: null,
  };
}
