// Topics and their subscriptions: every SQL statement about audiences.
import type { Db } from './db.js';

export interface TopicRow {
  id: string;
  key: string;
  name: string;
  description: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Creates the topic or replaces its name and description; `created` tells which. */
export async function upsertTopic(
  db: Db,
  key: string,
  fields: { name: string; description: string | null },
): Promise<TopicRow & { created: boolean }> {
  const [row] = await db.$queryRaw<(TopicRow & { created: boolean })[]>`
    INSERT INTO topics (id, key, name, description, created_at, updated_at)
    VALUES (gen_random_uuid(), ${key}, ${fields.name}, ${fields.description},
            now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
    ON CONFLICT (key) DO UPDATE
      SET name = excluded.name, description = excluded.description, updated_at = excluded.updated_at
    RETURNING id::text, key, name, description, created_at AS "createdAt", updated_at AS "updatedAt",
      (xmax = 0) AS created`;
  return row!;
}

export async function findTopic(db: Db, key: string): Promise<TopicRow | undefined> {
  const [row] = await db.$queryRaw<TopicRow[]>`
    SELECT id::text, key, name, description, created_at AS "createdAt", updated_at AS "updatedAt"
    FROM topics WHERE key = ${key}`;
  return row;
}

/** Read from the (topic_id, id) index: milliseconds for tens of thousands of subscribers. */
export async function countSubscribers(db: Db, topicId: string): Promise<number> {
  const [row] = await db.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM topic_subscriptions WHERE topic_id = ${topicId}::uuid`;
  return row?.count ?? 0;
}

export interface SubscribeOutcome {
  /** As the caller gave it: Herald's id or an externalId. */
  given: string;
  /** Herald's id; null when no user has that id or externalId. */
  userId: string | null;
  /** Whether this call subscribed the user (false: subscribed already, or unknown). */
  created: boolean;
}

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/**
 * Subscribes the users, given by id or externalId, in one statement; those subscribed already stay as
 * they are (with their place in the order broadcasts page through). One outcome per item, in order.
 */
export async function subscribe(
  db: Db,
  topicId: string,
  users: readonly string[],
): Promise<SubscribeOutcome[]> {
  return db.$queryRaw<SubscribeOutcome[]>`
    WITH given AS (
      SELECT g, ord FROM unnest(${users}::text[]) WITH ORDINALITY AS t(g, ord)
    ), matched AS (
      -- The id match first (false sorts before true): an externalId never shadows a user's id.
      SELECT DISTINCT ON (given.ord) given.ord, u.id AS user_id
      FROM given JOIN users u
        ON u.external_id = given.g
        OR u.id = CASE WHEN given.g ~ ${UUID_PATTERN} THEN given.g::uuid END
      ORDER BY given.ord, u.external_id = given.g
    ), inserted AS (
      INSERT INTO topic_subscriptions (topic_id, user_id, created_at)
      SELECT ${topicId}::uuid, m.user_id, now() AT TIME ZONE 'UTC'
      FROM (SELECT DISTINCT user_id FROM matched) m
      ORDER BY m.user_id
      ON CONFLICT (topic_id, user_id) DO NOTHING
      RETURNING user_id
    )
    SELECT given.g AS given, matched.user_id::text AS "userId", (inserted.user_id IS NOT NULL) AS created
    FROM given
    LEFT JOIN matched ON matched.ord = given.ord
    LEFT JOIN inserted ON inserted.user_id = matched.user_id
    ORDER BY given.ord`;
}

/** Ends the subscription, if there was one: later broadcasts (and this one's pages not yet read) skip the user. */
export async function unsubscribe(db: Db, topicId: string, userId: string): Promise<boolean> {
  const removed = await db.$executeRaw`
    DELETE FROM topic_subscriptions WHERE topic_id = ${topicId}::uuid AND user_id = ${userId}::uuid`;
  return removed > 0;
}

export interface UserTopicRow {
  key: string;
  name: string;
  description: string | null;
  subscribedAt: Date;
}

export async function topicsOfUser(db: Db, userId: string): Promise<UserTopicRow[]> {
  return db.$queryRaw<UserTopicRow[]>`
    SELECT t.key, t.name, t.description, s.created_at AS "subscribedAt"
    FROM topic_subscriptions s JOIN topics t ON t.id = s.topic_id
    WHERE s.user_id = ${userId}::uuid
    ORDER BY t.key`;
}
