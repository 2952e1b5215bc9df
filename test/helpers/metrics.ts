import type { TestApp } from './test-app';

/** The value of one sample in Prometheus text, or undefined. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',');
    if (wanted.every((label) => present.includes(label))) return Number(match[3]);
  }
  return undefined;
}

/** One sample as the app's GET /metrics shows it now. */
export async function metric(app: TestApp, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const response = await app.http.get('/metrics');
  return sample(response.text, name, labels);
}
