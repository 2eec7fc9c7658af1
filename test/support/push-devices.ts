// Phones for the push tests: tokens shaped as FCM and APNs make them, users with devices stored as the
// API stores them (seen as the delivery activity sees them, a Recipient), and the device routes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type {
  ChannelProvider,
  OutgoingMessage,
  PushDevice,
  Recipient,
  SendAttempt,
} from '../../src/activities/channels/channel.js';
import type { Db } from '../../src/store/db.js';
import { uniqueId, type RunningStack } from './stack.js';

/** An FCM registration token: an instance id, a colon, and a long URL-safe string. */
export const fcmToken = () =>
  `${randomBytes(16).toString('base64url')}:APA91b${randomBytes(100).toString('base64url')}`;

/** An APNs device token: 32 bytes in hex. */
export const apnsToken = () => randomBytes(32).toString('hex');

/** A user with these devices, stored active, and the Recipient the channel would be given. */
export async function userWithDevices(db: Db, devices: Omit<PushDevice, 'id'>[]) {
  const user = await db.user.create({ data: { externalId: uniqueId('phone') } });
  const rows = [];
  for (const device of devices)
    rows.push(await db.pushDevice.create({ data: { userId: user.id, ...device } }));
  const recipient: Recipient = {
    id: user.id,
    contacts: {},
    locale: 'en',
    linkVersion: 0,
    pushSubscriptions: [],
    pushDevices: rows.map(({ id, provider, token }) => ({ id, provider, token })),
  };
  return { user, rows, recipient };
}

/** A user with `count` phones of one provider, each with a fresh token. */
export const userWithPhones = (db: Db, provider: PushDevice['provider'], count = 1) =>
  userWithDevices(
    db,
    Array.from({ length: count }, () => ({ provider, token: provider === 'fcm' ? fcmToken() : apnsToken() })),
  );

/** A rendered notification, with the caller's data. */
export const pushMessage = (data: Record<string, unknown> = {}): OutgoingMessage => ({
  notificationId: crypto.randomUUID(),
  category: 'billing',
  title: 'Invoice #42',
  body: 'Your invoice is ready — ünïcödé ✓',
  data,
});

/** Sends expecting a failure; returns how the channel classifies it. */
export async function failureOf(channel: ChannelProvider, recipient: Recipient, attempt?: SendAttempt) {
  const error = await channel.send(recipient, pushMessage(), attempt).then(
    () => assert.fail('the send should have failed'),
    (e: unknown) => e,
  );
  return channel.classify(error);
}

/** Sends within a 300 ms attempt (the provider holding its answer longer); the failure and the time taken. */
export async function cutOffSend(channel: ChannelProvider, recipient: Recipient) {
  const started = Date.now();
  const failure = await failureOf(channel, recipient, {
    signal: AbortSignal.timeout(300),
    deadline: started + 300,
  });
  return { failure, tookMs: Date.now() - started };
}

export const storedDevice = (db: Db, id: string) => db.pushDevice.findUniqueOrThrow({ where: { id } });

/** A device as the API returns it. */
export interface DeviceView {
  id: string;
  provider: string;
  token: string;
  active: boolean;
  createdAt: string;
}

/** Users and their devices through the API of a running stack. */
export function deviceApi(stack: () => RunningStack) {
  const createUser = async () => {
    const res = await stack().api('/v1/users', { json: { externalId: uniqueId('phone') } });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { id: string; externalId: string };
  };
  const register = (userId: string, device: unknown) =>
    stack().api(`/v1/users/${userId}/push-devices`, { json: device });
  const registered = async (userId: string, device: { provider: string; token: string }) => {
    const res = await register(userId, device);
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as DeviceView;
  };
  return { createUser, register, registered };
}
