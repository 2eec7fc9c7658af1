// Listing notifications reads an index, never the whole table: with a million notifications, every
// statement that GET /v1/notifications and the bot's /status send is captured from the code itself and
// EXPLAINed. Dropping an index, or writing a query no index serves, fails here.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PrismaPg } from '@prisma/adapter-pg';
import { COMMANDS } from '../src/bot/commands.js';
import type { Turn } from '../src/bot/turn.js';
import { listNotifications } from '../src/domain/notification-list.js';
import { listNotificationsQuerySchema } from '../src/domain/schemas.js';
import { findUser } from '../src/domain/users.js';
import { recentCategories } from '../src/store/notifications.js';
import { PrismaClient } from '../src/generated/prisma/client.js';
import type { Db } from '../src/store/db.js';
import { createFreshDatabase, type FreshDatabase } from '../tools/local-stack/database.js';
import {
  NOTIFICATIONS,
  SEND_KEY,
  indexDefinitions,
  loadMillionNotifications,
} from './support/million-notifications.js';

interface Statement {
  sql: string;
  params: unknown[];
}
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}
const LISTED_TABLES = ['notifications', 'deliveries'];

describe(`listing among ${NOTIFICATIONS.toLocaleString('en')} notifications`, () => {
  let fresh: FreshDatabase;
  let db: Db;
  let capturing: Statement[] | undefined;

  before(async () => {
    const server = process.env.HERALD_TEST_DATABASE_URL;
    if (!server) throw new Error('Run with `npx tsx test/run.ts test/listing-indexes.test.ts`');
    fresh = await createFreshDatabase('herald_listing', server);
    const client = new PrismaClient({
      adapter: new PrismaPg({ connectionString: fresh.databaseUrl }),
      log: [{ emit: 'event', level: 'query' }],
    });
    client.$on('query', (e) => capturing?.push({ sql: e.query, params: JSON.parse(e.params) as unknown[] }));
    db = client as unknown as Db;
    const migrated = await indexDefinitions(db, 'notifications');
    const started = Date.now();
    await loadMillionNotifications(db);
    console.log(`[listing-indexes] loaded and analyzed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.deepEqual(await indexDefinitions(db, 'notifications'), migrated, 'the load put every index back');
  });

  after(async () => {
    await db?.$disconnect();
    await fresh?.remove();
  });

  /** What `run` sent to PostgreSQL, in order. */
  async function statementsOf(run: () => Promise<unknown>): Promise<Statement[]> {
    capturing = [];
    try {
      await run();
      return capturing;
    } finally {
      capturing = undefined;
    }
  }

  function flatten(node: PlanNode): PlanNode[] {
    return [node, ...(node.Plans ?? []).flatMap(flatten)];
  }

  /**
   * EXPLAINs every statement `run` sends to the listed tables, with the values it sent; fails on a
   * sequential scan of one; returns each statement's plan nodes that read those tables.
   */
  async function scansOf(run: () => Promise<unknown>): Promise<PlanNode[][]> {
    const statements = (await statementsOf(run)).filter((s) =>
      LISTED_TABLES.some((t) => s.sql.includes(`"${t}"`) || s.sql.includes(`FROM ${t}`)),
    );
    assert.ok(statements.length > 0, 'the code read the listed tables');
    const plans: PlanNode[][] = [];
    for (const { sql, params } of statements) {
      const [row] = await db.$queryRawUnsafe<{ 'QUERY PLAN': { Plan: PlanNode }[] }[]>(
        `EXPLAIN (FORMAT JSON) ${sql}`,
        ...params,
      );
      const nodes = flatten(row!['QUERY PLAN'][0]!.Plan);
      const plan = JSON.stringify(row!['QUERY PLAN'], null, 1);
      for (const node of nodes)
        if (LISTED_TABLES.includes(node['Relation Name'] ?? ''))
          assert.notEqual(node['Node Type'], 'Seq Scan', `a sequential scan for\n${sql}\n${plan}`);
      plans.push(nodes.filter((n) => n['Index Name'] || LISTED_TABLES.includes(n['Relation Name'] ?? '')));
    }
    return plans;
  }

  const indexNames = (plans: PlanNode[][]) =>
    new Set(plans.flat().flatMap((n) => (n['Index Name'] ? [n['Index Name']] : [])));

  /** The scan that walks `index`, which must be one the plans use. */
  function scanOn(plans: PlanNode[][], index: string): PlanNode {
    const scan = plans.flat().find((n) => n['Index Name'] === index);
    assert.ok(scan, `${index} is used; the plans use ${[...indexNames(plans)].join(', ')}`);
    return scan;
  }

  const list = (query: Record<string, string>, source?: string) =>
    listNotifications(db, listNotificationsQuerySchema.parse(query), { source });

  it('an admin key pages through all of them from the (created_at, id) index, the cursor as its bound', async () => {
    let first: Awaited<ReturnType<typeof list>> | undefined;
    const firstPage = await scansOf(async () => (first = await list({})));
    scanOn(firstPage, 'notifications_created_at_id_idx');
    // The deliveries of a page come by notification id.
    scanOn(firstPage, 'deliveries_notification_id_channel_key');

    const nextPage = await scansOf(() => list({ cursor: first!.nextCursor! }));
    const scan = scanOn(nextPage, 'notifications_created_at_id_idx');
    assert.match(scan['Index Cond'] ?? '', /created_at <=/, 'the index scan starts at the cursor');

    // The same pages as a plain ORDER BY: the ties on created_at are broken by id, none lost or repeated.
    const expected = await db.$queryRawUnsafe<{ id: string }[]>(
      'SELECT id::text FROM notifications ORDER BY created_at DESC, id DESC LIMIT 200',
    );
    const one = await list({ limit: '100' });
    const two = await list({ limit: '100', cursor: one.nextCursor! });
    assert.deepEqual(
      [...one.items, ...two.items].map((n) => n.id),
      expected.map((r) => r.id),
    );
  });

  it('a send key lists its own from the (source, created_at, id) index', async () => {
    let first: Awaited<ReturnType<typeof list>> | undefined;
    scanOn(
      await scansOf(async () => (first = await list({}, SEND_KEY))),
      'notifications_source_created_at_id_idx',
    );
    const next = await scansOf(() => list({ cursor: first!.nextCursor! }, SEND_KEY));
    assert.match(scanOn(next, 'notifications_source_created_at_id_idx')['Index Cond'] ?? '', /created_at <=/);
  });

  it('each filter reads its own index', async () => {
    const user = 'listing-2';
    const cases: [Record<string, string>, string][] = [
      [{ userId: user }, 'notifications_user_id_created_at_id_idx'],
      [{ status: 'failed' }, 'notifications_status_created_at_id_idx'],
      [{ category: 'security' }, 'notifications_category_created_at_id_idx'],
      [{ since: '2026-01-02T00:00:00Z', until: '2026-01-03T00:00:00Z' }, 'notifications_created_at_id_idx'],
    ];
    for (const [query, index] of cases) scanOn(await scansOf(() => list(query)), index);
    // Two filters: whichever index the planner prefers, never the whole table.
    await scansOf(() => list({ userId: user, status: 'sent' }));
    await scansOf(() => list({ category: 'orders', status: 'failed' }, SEND_KEY));
  });

  it("the bot's /status reads what the user received and what they sent from two indexes", async () => {
    // User 2 receives every 1000th notification and sends one through the bot (to another) as often.
    const user = await findUser(db, 'listing-2');
    const replies: string[] = [];
    const turn = {
      deps: { db },
      user,
      chatId: '1',
      updateId: 1,
      reply: async (text: string) => void replies.push(text),
    };
    const status = (args: string) => COMMANDS.status!.run(turn as unknown as Turn, args);

    const plans = await scansOf(() => status(''));
    scanOn(plans, 'notifications_user_id_created_at_id_idx');
    scanOn(plans, 'notifications_bot_sender_created_at_id_idx');
    // The same five as one OR over the whole table, newest first.
    const expected = await db.$queryRawUnsafe<{ id: string; sent: boolean }[]>(
      `SELECT id::text, user_id <> $1::uuid AS sent FROM notifications
       WHERE user_id = $1::uuid OR (source = 'bot' AND data ->> 'sentBy' = $1::text)
       ORDER BY created_at DESC, id DESC LIMIT 5`,
      user.id,
    );
    assert.ok(expected.some((n) => n.sent) && expected.some((n) => !n.sent), 'the five mix both kinds');
    const listed = [...replies.at(-1)!.matchAll(/^• (\S+) /gm)].map((m) => m[1]);
    assert.deepEqual(
      listed,
      expected.map((n) => n.id),
    );

    // /status <id> of one sent to someone else: by its key, and its deliveries by theirs.
    const byId = await scansOf(() => status(expected.find((n) => n.sent)!.id));
    scanOn(byId, 'notifications_pkey');
    scanOn(byId, 'deliveries_notification_id_channel_key');
    assert.match(replies.at(-1)!, /• email: sent/);
  });

  it("the preference page's and /settings' recent categories read a bounded run of the user's index", async () => {
    const user = await findUser(db, 'listing-2');
    const plans = await scansOf(() => recentCategories(db, user.id, 20));
    const scan = scanOn(plans, 'notifications_user_id_created_at_id_idx');
    assert.match(scan['Index Cond'] ?? '', /user_id =/);
  });
});
