import type { ServerResponse } from 'node:http';

/**
 * Answers a RevenueCat-shaped list of 300 MB of `item`s, slowly (64 KiB, then a millisecond's pause, and
 * only as fast as the reader takes it: sent whole it would take seconds, and a reader that kept it would
 * hold 300 MB). Resolves when the connection closes with how much was written and whether it all was.
 */
export function streamHugeList(res: ServerResponse, item: string): Promise<{ written: number; finished: boolean }> {
  return new Promise((resolve) => {
    const element = Buffer.from(`${item},`);
    const chunk = Buffer.alloc(64 * 1024 - ((64 * 1024) % element.length));
    for (let offset = 0; offset < chunk.length; offset += element.length) element.copy(chunk, offset);
    let written = 0;
    let finished = false;
    res.on('close', () => resolve({ written, finished }));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"object":"list","items":[');
    const writeMore = (): void => {
      if (res.destroyed) return;
      if (written >= 300 * 1000 * 1000) {
        finished = true;
        res.end(`${item}],"next_page":null}`);
        return;
      }
      written += chunk.length;
      if (res.write(chunk)) setTimeout(writeMore, 1);
      else res.once('drain', () => setTimeout(writeMore, 1));
    };
    writeMore();
  });
}
