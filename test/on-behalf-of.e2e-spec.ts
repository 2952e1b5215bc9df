import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { RevenueCatEmulator } from '../emulator/revenuecat-emulator';
import { describeWithPostgres } from './helpers/postgres';
import { ADMIN_SECRET, TestApp, useEmulatorApp } from './helpers/test-app';

const ADJUST = 'mutation Adjust($input: AdjustCreditsInput!) { adjustCredits(input: $input) { id actor { name onBehalfOf } } }';
const RECORD = 'query Record($id: ID!) { adjustment(id: $id) { actor { onBehalfOf } } }';
const HISTORY = 'query History($userId: ID!) { adjustments(filter: { userId: $userId }, first: 10) { nodes { id } } }';

interface RawAnswer {
  status: number;
  body: { data?: Record<string, any> | null; errors?: Array<{ extensions?: Record<string, unknown> }> };
}

/**
 * POST /graphql over a plain socket with `X-On-Behalf-Of` written as the given bytes, exactly: what an
 * internal tool sends, whatever its HTTP library makes of a non-ASCII header value.
 */
function postWithOnBehalfOf(app: TestApp, onBehalfOf: Buffer, variables: Record<string, unknown>): Promise<RawAnswer> {
  const { hostname, port } = new URL(app.url);
  const body = Buffer.from(JSON.stringify({ query: ADJUST, variables }));
  const head =
    `POST /graphql HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${ADMIN_SECRET}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\nX-On-Behalf-Of: `;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const headers = text.slice(0, split);
      let payload = text.slice(split + 4);
      if (/^transfer-encoding:\s*chunked/im.test(headers)) payload = dechunk(payload);
      resolve({ status: Number(headers.split(' ')[1]), body: JSON.parse(payload) });
    });
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), onBehalfOf, Buffer.from('\r\n\r\n', 'latin1'), body]));
  });
}

function dechunk(payload: string): string {
  let out = '';
  for (let rest = payload; ;) {
    const lineEnd = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, lineEnd), 16);
    if (!size) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');

describeWithPostgres('X-On-Behalf-Of is UTF-8', () => {
  const ctx = useEmulatorApp();
  let app: TestApp;
  let emulator: RevenueCatEmulator;
  const user = () => `user_behalf_${randomUUID().slice(0, 8)}`;

  beforeAll(() => {
    app = ctx.app;
    emulator = ctx.emulator;
  });

  it.each([
    ['a Latin accent', 'jané@x'],
    ['Cyrillic', 'Анна <анна@support.example>'],
    ['a four-byte character', 'jane 🙂'],
    ['a last character whose UTF-8 ends in 0xA0, a Latin-1 no-break space', 'voilà'],
    ['200 two-byte characters', 'é'.repeat(200)],
    ['200 characters outside the BMP', '🙂'.repeat(200)],
  ])('stores %s as it was sent: answer, journal and audit line', async (_name, sent) => {
    const userId = user();
    emulator.addCustomer(userId, { CRD: 5 });
    const log = jest.spyOn(Logger.prototype, 'log');
    try {
      const answer = await postWithOnBehalfOf(app, utf8(sent), { input: { userId, amount: 1, reason: 'OBO-1 encoding' } });
      expect([answer.status, answer.body.errors]).toEqual([200, undefined]);
      const adjusted = answer.body.data!.adjustCredits;
      expect(adjusted.actor).toEqual({ name: 'admin', onBehalfOf: sent });
      const record = await app.client.query(RECORD, { id: adjusted.id });
      expect(record.body.data?.adjustment.actor.onBehalfOf).toBe(sent);
      const audit = log.mock.calls.map(([entry]) => entry).filter((entry: any) => entry?.event === 'credits.adjustment' && entry.userId === userId);
      expect(audit).toEqual([expect.objectContaining({ outcome: 'applied', onBehalfOf: sent })]);
    } finally {
      log.mockRestore();
    }
    expect(emulator.balanceOf(userId, 'CRD')).toBe(6);
  });

  it.each([
    ['a Latin-1 byte that is not UTF-8', Buffer.from('jan\u00e9@x', 'latin1')],
    ['a sequence cut short', Buffer.concat([utf8('jane'), Buffer.from([0xc3])])],
    ['an overlong encoding of "/"', Buffer.concat([utf8('jane'), Buffer.from([0xc0, 0xaf])])],
    ['an encoded surrogate', Buffer.concat([utf8('jane'), Buffer.from([0xed, 0xa0, 0x80])])],
    ['a right-to-left override, validly encoded', utf8('jane\u202e@x')],
    ['201 two-byte characters', utf8('é'.repeat(201))],
  ])('refuses %s as invalid_argument, recording and sending nothing', async (_name, sent) => {
    const userId = user();
    emulator.addCustomer(userId, { CRD: 5 });
    const answer = await postWithOnBehalfOf(app, sent, { input: { userId, amount: 1, reason: 'OBO-2 refused' } });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({ code: 'invalid_argument', field: 'X-On-Behalf-Of' });
    expect((await app.client.query(HISTORY, { userId })).body.data?.adjustments.nodes).toEqual([]);
    expect(emulator.transactions.filter((transaction) => transaction.customerId === userId)).toHaveLength(0);
  });
});
