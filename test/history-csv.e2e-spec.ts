import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { HISTORY_CSV_COLUMNS } from '../src/journal/history-csv';
import { HISTORY_CSV_MAX_CHARS, HISTORY_CSV_MAX_ROWS } from '../src/journal/journal.resolver';
import { errorCode, type GraphQLClient } from './helpers/graphql-client';
import { describeWithPostgres, TEST_DATABASE_URL } from './helpers/postgres';
import { startApp, useEmulatorApp, type TestApp } from './helpers/test-app';

const CSV = 'query Csv($userId: ID!, $status: AdjustmentStatus) { adjustmentsCsv(userId: $userId, status: $status) }';
const ADJUST = 'mutation Adjust($input: AdjustCreditsInput!) { adjustCredits(input: $input) { id } }';
const REVERSE = 'mutation Reverse($input: ReverseAdjustmentInput!) { reverseAdjustment(input: $input) { id } }';
const CREATE_OPERATOR = 'mutation Create($input: CreateOperatorInput!) { createOperator(input: $input) { token } }';
const HEADER = HISTORY_CSV_COLUMNS.join(',');

/** RFC 4180 read strictly: every record ends with CRLF, quoted fields double their quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let at = 0;
  while (at < text.length) {
    let field = '';
    if (text[at] === '"') {
      at++;
      for (;;) {
        const quote = text.indexOf('"', at);
        if (quote === -1) throw new Error(`unterminated quoted field at ${at}`);
        field += text.slice(at, quote);
        at = quote + 1;
        if (text[at] !== '"') break;
        field += '"';
        at++;
      }
    } else {
      const end = text.slice(at).search(/,|\r\n/);
      if (end === -1) throw new Error(`a record not ended by CRLF at ${at}`);
      field = text.slice(at, at + end);
      if (/["\r\n]/.test(field)) throw new Error(`an unquoted field holds a quote, CR or LF: ${JSON.stringify(field)}`);
      at += end;
    }
    row.push(field);
    if (text.startsWith('\r\n', at)) {
      rows.push(row);
      row = [];
      at += 2;
    } else if (text[at] === ',') at++;
    else throw new Error(`expected , or CRLF at ${at}`);
  }
  return rows;
}

function records(csv: string): Array<Record<string, string>> {
  const [header, ...rows] = parseCsv(csv);
  expect(header.join(',')).toBe(HEADER);
  for (const row of rows) expect(row).toHaveLength(header.length);
  return rows.map((row) => Object.fromEntries(header.map((name, i) => [name, row[i]])));
}

async function exportCsv(client: GraphQLClient, userId: string, status?: string): Promise<string> {
  const response = await client.query<{ adjustmentsCsv: string }>(CSV, { userId, status });
  if (!response.body.data?.adjustmentsCsv) throw new Error(`adjustmentsCsv failed: ${response.status} ${JSON.stringify(response.body.errors)}`);
  return response.body.data.adjustmentsCsv;
}

/** `count` APPLIED records for `userId` written straight into the app's journal, one second apart, the newest at index 1. */
async function seedJournal(app: TestApp, userId: string, count: number, reasonLength = 0): Promise<void> {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const schema = (app.config.database as { schema: string }).schema;
    await client.query(
      `insert into "${schema}".adjustments (id, idempotency_key, fingerprint, user_id, currency, amount, reason, status, balance, upstream_key, actor_name, actor_role, created_at, settled_at)
       select 'seed_' || $1 || '_' || i, 'seed-key-' || $1 || '-' || i, 'fp', $1, 'CRD', i, 'seeded ' || i || repeat('r', $3::int), 'APPLIED', i, 'rc-seed-' || $1 || '-' || i, 'admin', 'ADMIN',
              now() - make_interval(secs => i), now() - make_interval(secs => i)
       from generate_series(1, $2::int) as i`,
      [userId, count, reasonLength],
    );
  } finally {
    await client.end();
  }
}

describeWithPostgres('adjustmentsCsv: a customer history export', () => {
  const ctx = useEmulatorApp({ env: { REVENUECAT_MAX_RETRIES: '0' } });
  const user = (name: string) => `user_${name}_${randomUUID().slice(0, 8)}`;

  it('exports every row newest first, RFC 4180 quoted, formula-like text prefixed, numbers and times left as they are, to a VIEWER', async () => {
    const { app, emulator } = ctx;
    const userId = user('csv');
    emulator.addCustomer(userId, { CRD: 100 });
    const formula = '=HYPERLINK("http://evil.example","click")';
    const grant = await app.client.query<{ adjustCredits: { id: string } }>(
      ADJUST,
      { input: { userId, amount: 25, reason: formula } },
      { headers: { 'x-on-behalf-of': '@jane, "support"' } },
    );
    const grantId = grant.body.data!.adjustCredits.id;
    const quoted = 'line one, with a comma\r\nline "two"';
    await app.client.query(ADJUST, { input: { userId, amount: -5, reason: quoted } });
    for (const reason of ['+1 goodwill', '-sign first', '@mention', '=1+1']) await app.client.query(ADJUST, { input: { userId, amount: 1, reason } });
    const reversal = await app.client.query<{ reverseAdjustment: { id: string } }>(REVERSE, { input: { adjustmentId: grantId, reason: 'CSV-1 reversed in error' } });
    const reversalId = reversal.body.data!.reverseAdjustment.id;
    await app.client.query(ADJUST, { input: { userId, amount: -100_000, reason: 'CSV-1 too much' } });

    const viewer = await app.client.query<{ createOperator: { token: string } }>(CREATE_OPERATOR, { input: { name: `viewer ${randomUUID().slice(0, 6)}`, role: 'VIEWER' } });
    const csv = await exportCsv(app.client.withToken(viewer.body.data!.createOperator.token), userId);
    expect(csv.startsWith(`${HEADER}\r\n`)).toBe(true);
    const rows = records(csv);
    expect(rows.map((row) => [row.amount, row.status, row.reason])).toEqual([
      ['-100000', 'REJECTED', 'CSV-1 too much'],
      ['-25', 'APPLIED', 'CSV-1 reversed in error'],
      ['1', 'APPLIED', "'=1+1"],
      ['1', 'APPLIED', "'@mention"],
      ['1', 'APPLIED', "'-sign first"],
      ['1', 'APPLIED', "'+1 goodwill"],
      ['-5', 'APPLIED', quoted],
      ['25', 'APPLIED', `'${formula}`],
    ]);
    const [rejected, reversalRow, , , , , , original] = rows;
    expect(rejected.errorCode).toBe('insufficient_balance');
    expect([reversalRow.id, reversalRow.reverses, original.id, original.reversedBy]).toEqual([reversalId, grantId, grantId, reversalId]);
    expect([original.actorName, original.actorRole, original.actorOperatorId, original.onBehalfOf, original.balance]).toEqual([
      'admin',
      'ADMIN',
      '',
      `'@jane, "support"`,
      '125',
    ]);
    expect(new Date(original.createdAt).toISOString()).toBe(original.createdAt);
    // The quoting itself, as bytes: the comma, CRLF and quotes inside one quoted field.
    expect(csv).toContain(`,"line one, with a comma\r\nline ""two""",`);
    expect(csv).toContain(`,"'=HYPERLINK(""http://evil.example"",""click"")",`);

    const appliedOnly = records(await exportCsv(app.client, userId, 'REJECTED'));
    expect(appliedOnly.map((row) => row.amount)).toEqual(['-100000']);
    expect(records(await exportCsv(app.client, user('nobody')))).toEqual([]);
  });

  it('reads a long history in keyset pages, each row once, newest first', async () => {
    const userId = user('long');
    await seedJournal(ctx.app, userId, 2_345);
    const rows = records(await exportCsv(ctx.app.client, userId));
    expect(rows).toHaveLength(2_345);
    expect(new Set(rows.map((row) => row.id)).size).toBe(2_345);
    expect(rows.map((row) => Number(row.amount))).toEqual(Array.from({ length: 2_345 }, (_, i) => i + 1));
  });

  it(`refuses more than ${HISTORY_CSV_MAX_ROWS} rows with 422 export_too_large`, async () => {
    const userId = user('huge');
    await seedJournal(ctx.app, userId, HISTORY_CSV_MAX_ROWS + 1);
    const response = await ctx.app.client.query(CSV, { userId });
    expect([response.status, errorCode(response), response.body.data]).toEqual([422, 'export_too_large', null]);
  });

  it(`refuses an export over ${HISTORY_CSV_MAX_CHARS / 1024 / 1024} MiB of text with 422 export_too_large, well under the row limit`, async () => {
    const userId = user('wide');
    // Reasons at their 500-character limit: about 600 characters a row.
    const count = Math.ceil(HISTORY_CSV_MAX_CHARS / 500);
    await seedJournal(ctx.app, userId, count, 490);
    expect(count).toBeLessThan(HISTORY_CSV_MAX_ROWS);
    const response = await ctx.app.client.query(CSV, { userId });
    expect([response.status, errorCode(response), response.body.errors?.[0]?.message]).toEqual([
      422,
      'export_too_large',
      'export_too_large: more than 32 MiB of text; narrow the export with status',
    ]);
  });

  it('refuses a malformed userId with invalid_argument before reading anything', async () => {
    const response = await ctx.app.client.query(CSV, { userId: 'a\u0000b' });
    expect([response.status, errorCode(response), response.body.errors?.[0]?.extensions?.field]).toEqual([400, 'invalid_argument', 'userId']);
  });
});

describeWithPostgres('adjustmentsCsv against the reads budget', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ env: { RATE_LIMIT_READS_PER_MINUTE: '3' } });
  });
  afterAll(() => app?.close());

  it('counts one export of many pages once', async () => {
    const userId = `user_budget_${randomUUID().slice(0, 8)}`;
    await seedJournal(app, userId, 2_500);
    expect(records(await exportCsv(app.client, userId))).toHaveLength(2_500);
    expect(records(await exportCsv(app.client, userId))).toHaveLength(2_500);
    expect(records(await exportCsv(app.client, userId))).toHaveLength(2_500);
    const refused = await app.client.query(CSV, { userId });
    expect([refused.status, errorCode(refused)]).toEqual([429, 'rate_limited']);
  });
});
