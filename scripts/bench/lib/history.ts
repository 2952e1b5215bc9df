/**
 * The journal's history query against a large table: a fresh PostgreSQL schema migrated by the service's
 * own migrations (openDatabase), seeded with one `INSERT ... SELECT ... FROM generate_series`, analyzed,
 * and the plan of each filter's page statement (AdjustmentRepository.listStatement) read with
 * EXPLAIN (ANALYZE, BUFFERS). The HTTP figures are taken by run.ts against a gateway on the same schema.
 */
import { sql } from 'drizzle-orm';
import { Client } from 'pg';
import { openDatabase, queryRows, type DatabaseConnection } from '../../../src/database/database';
import { AdjustmentRepository, type AdjustmentFilter } from '../../../src/journal/adjustment.repository';

/** At a million rows: ~500 adjustments per user, ~18,000 per operator. Fewer rows (a smoke run), fewer of each, so pages stay full. */
export const HISTORY_USERS = 2_000;
export const HISTORY_OPERATORS = 50;
export const historyUsers = (rows: number) => Math.max(1, Math.min(HISTORY_USERS, Math.floor(rows / 500)));
export const historyOperators = (rows: number) => Math.max(1, Math.min(HISTORY_OPERATORS, Math.floor(rows / 20_000)));
export const HISTORY_DAYS = 90;
export const HISTORY_PAGE = 20;

export const historyUser = (i: number) => `user_hist_${i}`;
export const historyOperator = (i: number) => `op_hist_${i}`;

/** A bench-owned schema name (lower case, as DATABASE_SCHEMA requires). */
export const benchSchema = (purpose: string, runId: string) => `bench_${purpose}_${runId}`;

export async function dropSchema(url: string, schema: string): Promise<void> {
  if (!/^bench_[a-z0-9_]+$/.test(schema)) throw new Error(`refusing to drop schema ${schema}: not a bench schema`);
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * One statement. Per row g: user g % users, operator (g / 7) % operators (every tenth row by the root admin secret,
 * no operator), created_at spread at random over the last 90 days, 93% APPLIED, 5% REJECTED, 1% UNKNOWN, 1%
 * CANCELLED; amounts from -100 to 99 without 0; every NOT NULL column and CHECK satisfied.
 */
function seedStatement(rows: number, users: number, operators: number) {
  return sql`
    insert into adjustments (
      id, idempotency_key, fingerprint, user_id, currency, amount, reason, status,
      error_code, error_message, balance, balances, upstream_key, attempts,
      actor_operator_id, actor_name, actor_role, created_at, settled_at
    )
    select
      'adj_hist_' || g,
      'hist-' || g,
      md5(g::text),
      'user_hist_' || (g % ${users}::int),
      case when g % 5 = 0 then 'GEM' else 'CRD' end,
      case when g % 200 = 100 then 1 else (g % 200) - 100 end,
      'BENCH history seed',
      s.status,
      case s.status when 'REJECTED' then 'insufficient_balance' when 'UNKNOWN' then 'upstream_unavailable' end,
      case s.status when 'REJECTED' then 'insufficient_balance: the balance would go below 0'
                    when 'UNKNOWN' then 'upstream_unavailable: RevenueCat did not answer' end,
      case when s.status = 'APPLIED' then 1000 + g % 5000 end,
      case when s.status = 'APPLIED'
        then jsonb_build_array(jsonb_build_object('currency', 'CRD', 'name', 'Credits', 'balance', 1000 + g % 5000)) end,
      'up-hist-' || g,
      1,
      case when g % 10 = 0 then null else 'op_hist_' || ((g / 7) % ${operators}::int) end,
      case when g % 10 = 0 then 'admin' else 'operator ' || ((g / 7) % ${operators}::int) end,
      case when g % 10 = 0 then 'ADMIN' when g % 3 = 0 then 'SUPERVISOR' else 'AGENT' end,
      s.created_at,
      case when s.status = 'UNKNOWN' then null else s.created_at + interval '200 milliseconds' end
    from (
      select g,
        date_trunc('milliseconds', now() - random() * interval '${sql.raw(String(HISTORY_DAYS))} days') as created_at,
        case when (g * 37) % 100 < 93 then 'APPLIED' when (g * 37) % 100 < 98 then 'REJECTED'
             when (g * 37) % 100 < 99 then 'UNKNOWN' else 'CANCELLED' end as status
      from generate_series(1, ${rows}::int) as g
    ) as s`;
}

export interface SeededHistory {
  connection: DatabaseConnection;
  rows: number;
  users: number;
  operators: number;
  seedSeconds: number;
  /** A week inside the seeded range, for the date-range filter. */
  rangeStart: Date;
  rangeEnd: Date;
}

/** Creates and migrates `schema`, seeds `rows` adjustments in one statement, analyzes. */
export async function seedHistory(url: string, schema: string, rows: number): Promise<SeededHistory> {
  // A seed of a million rows takes longer than the service's 5 s statement timeout.
  const connection = await openDatabase({ kind: 'postgres', url }, { schema, statementTimeoutMs: 600_000, maxConnections: 2 });
  const started = performance.now();
  const users = historyUsers(rows);
  const operators = historyOperators(rows);
  await connection.db.execute(seedStatement(rows, users, operators));
  await connection.db.execute(sql`analyze adjustments`);
  const seedSeconds = (performance.now() - started) / 1000;
  const [{ count }] = await queryRows<{ count: string }>(connection.db, sql`select count(*)::text as count from adjustments`);
  if (Number(count) !== rows) throw new Error(`seeded ${count} rows, expected ${rows}`);
  const rangeEnd = new Date(Date.now() - 30 * 86_400_000);
  const rangeStart = new Date(rangeEnd.getTime() - 7 * 86_400_000);
  return { connection, rows, users, operators, seedSeconds, rangeStart, rangeEnd };
}

export interface PlanSummary {
  /** Every index the plan reads, in plan order. */
  indexes: string[];
  /** The top plan node, e.g. "Limit (cost=... rows=21) (actual time=0.03..0.12 rows=21 loops=1)". */
  topNode: string;
  executionMs: number;
  planningMs: number;
  /** Shared buffers hit + read at the top node. */
  buffers: string;
  text: string;
}

/** EXPLAIN (ANALYZE, BUFFERS) of exactly the statement `list` sends for the first page. */
export async function explainFirstPage(connection: DatabaseConnection, filter: AdjustmentFilter): Promise<PlanSummary> {
  const repository = new AdjustmentRepository(connection.db);
  const statement = repository.listStatement(filter, HISTORY_PAGE);
  // Once to warm the cache as the HTTP load does, then the plan that is reported.
  await connection.db.execute(sql`explain (analyze, buffers) ${statement}`);
  const rows = await queryRows<{ 'QUERY PLAN': string }>(connection.db, sql`explain (analyze, buffers) ${statement}`);
  const lines = rows.map((row) => row['QUERY PLAN']);
  const text = lines.join('\n');
  const indexes = [...text.matchAll(/Index (?:Only )?Scan(?: Backward)? using (\S+)/g)].map((match) => match[1]);
  const bitmap = [...text.matchAll(/Bitmap Index Scan on (\S+)/g)].map((match) => `${match[1]} (bitmap)`);
  const buffers =
    lines
      .find((line) => line.trim().startsWith('Buffers:'))
      ?.trim()
      .replace(/^Buffers:\s*/, '') ?? '';
  return {
    indexes: [...indexes, ...bitmap],
    topNode: lines[0]?.trim() ?? '',
    executionMs: Number(/Execution Time: ([\d.]+) ms/.exec(text)?.[1] ?? NaN),
    planningMs: Number(/Planning Time: ([\d.]+) ms/.exec(text)?.[1] ?? NaN),
    buffers,
    text,
  };
}
