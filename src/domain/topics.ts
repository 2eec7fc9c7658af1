// Audiences: topics and who subscribes to them.
import type { Db } from '../store/db.js';
import {
  countSubscribers,
  findTopic,
  subscribe,
  topicsOfUser,
  unsubscribe,
  upsertTopic,
  type SubscribeOutcome,
  type TopicRow,
} from '../store/topics.js';
import { NotFoundError } from './errors.js';
import { findUser } from './users.js';
import type { PutTopic, TopicResponse, UserTopicsResponse } from './topic-views.js';

const topicView = (topic: TopicRow, subscribers: number): TopicResponse => ({
  key: topic.key,
  name: topic.name,
  description: topic.description,
  subscribers,
  createdAt: topic.createdAt.toISOString(),
  updatedAt: topic.updatedAt.toISOString(),
});

async function requireTopic(db: Db, key: string): Promise<TopicRow> {
  const topic = await findTopic(db, key);
  if (!topic) throw new NotFoundError(`Topic ${key}`);
  return topic;
}

export async function putTopic(
  db: Db,
  key: string,
  input: PutTopic,
): Promise<{ created: boolean; topic: TopicResponse }> {
  const row = await upsertTopic(db, key, { name: input.name, description: input.description ?? null });
  return {
    created: row.created,
    topic: topicView(row, row.created ? 0 : await countSubscribers(db, row.id)),
  };
}

export async function getTopic(db: Db, key: string): Promise<TopicResponse> {
  const topic = await requireTopic(db, key);
  return topicView(topic, await countSubscribers(db, topic.id));
}

/** Subscribes each user, in one statement; an unknown one is reported in its own item (`userId` null). */
export async function addSubscribers(
  db: Db,
  key: string,
  users: readonly string[],
): Promise<SubscribeOutcome[]> {
  const topic = await requireTopic(db, key);
  return subscribe(db, topic.id, users);
}

/** Idempotent: a user who was not subscribed stays so. */
export async function removeSubscriber(db: Db, key: string, userIdOrExternalId: string): Promise<void> {
  const topic = await requireTopic(db, key);
  const user = await findUser(db, userIdOrExternalId);
  await unsubscribe(db, topic.id, user.id);
}

export async function userTopics(db: Db, userIdOrExternalId: string): Promise<UserTopicsResponse> {
  const user = await findUser(db, userIdOrExternalId);
  const rows = await topicsOfUser(db, user.id);
  return {
    items: rows.map((r) => ({
      key: r.key,
      name: r.name,
      description: r.description,
      subscribedAt: r.subscribedAt.toISOString(),
    })),
  };
}
