// Where push reaches a user: browser subscriptions (Web Push) and phones (FCM and APNs tokens), several
// of each. A target moves to the user who registered it last, and each kind keeps at most 10 active.
import type { Db } from '../store/db.js';
import { canonicalToken } from '../activities/channels/push/devices.js';
import { NotFoundError } from './errors.js';
import type { PushDeviceInput, PushSubscriptionInput } from './schemas.js';
import { findUser, pushDeviceView } from './users.js';

/** Active subscriptions, and active devices, a user may have: a few browsers and phones, not a fan-out list. */
export const MAX_ACTIVE_PUSH_SUBSCRIPTIONS = 10;
export const MAX_ACTIVE_PUSH_DEVICES = 10;

/** The two tables' shared part: a user's active rows, and deactivating some. */
interface ActiveTargets {
  findMany(args: {
    where: { userId: string; active: true; id: { not: string } };
    orderBy: { createdAt?: 'desc'; id?: 'desc' }[];
    select: { id: true };
  }): Promise<{ id: string }[]>;
  updateMany(args: {
    where: { id: { in: string[] }; active: true };
    data: { active: false; deactivatedAt: Date };
  }): Promise<unknown>;
}

/** Beyond the cap, the oldest of the user's active targets (never the one just added) are deactivated. */
async function retireOldest(table: ActiveTargets, userId: string, keep: string, cap: number): Promise<void> {
  const others = await table.findMany({
    where: { userId, active: true, id: { not: keep } },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    select: { id: true },
  });
  const retired = others.slice(cap - 1).map((row) => row.id);
  if (retired.length === 0) return;
  await table.updateMany({
    where: { id: { in: retired }, active: true },
    data: { active: false, deactivatedAt: new Date() },
  });
}

/**
 * Stores a browser's push subscription. Subscribing again (same endpoint) reactivates it, and an
 * endpoint moves to the user who subscribed last: a browser belongs to whoever is signed in on it.
 */
export async function addPushSubscription(db: Db, idOrExternalId: string, input: PushSubscriptionInput) {
  const user = await findUser(db, idOrExternalId);
  const fields = { userId: user.id, p256dh: input.keys.p256dh, auth: input.keys.auth, active: true };
  const existing = await db.pushSubscription.findUnique({ where: { endpoint: input.endpoint } });
  const subscription = await db.pushSubscription.upsert({
    where: { endpoint: input.endpoint },
    create: { endpoint: input.endpoint, ...fields },
    update: { ...fields, deactivatedAt: null },
  });
  await retireOldest(db.pushSubscription, user.id, subscription.id, MAX_ACTIVE_PUSH_SUBSCRIPTIONS);
  return { created: !existing, subscription: { id: subscription.id, active: subscription.active } };
}

export async function removePushSubscription(db: Db, idOrExternalId: string, subscriptionId: string) {
  const user = await findUser(db, idOrExternalId);
  const { count } = await db.pushSubscription.deleteMany({ where: { id: subscriptionId, userId: user.id } });
  if (count === 0) throw new NotFoundError(`Push subscription ${subscriptionId}`);
}

/**
 * Registers a phone app's token. Registering it again reactivates it, and a token moves to the user who
 * registered it last: an app belongs to whoever is signed in on it.
 */
export async function addPushDevice(db: Db, idOrExternalId: string, input: PushDeviceInput) {
  const user = await findUser(db, idOrExternalId);
  const token = canonicalToken(input);
  const where = { provider_token: { provider: input.provider, token } };
  const existing = await db.pushDevice.findUnique({ where, select: { id: true } });
  const device = await db.pushDevice.upsert({
    where,
    create: { userId: user.id, provider: input.provider, token },
    update: { userId: user.id, active: true, deactivatedAt: null },
  });
  await retireOldest(db.pushDevice, user.id, device.id, MAX_ACTIVE_PUSH_DEVICES);
  return { created: !existing, device: pushDeviceView(device) };
}

export async function removePushDevice(db: Db, idOrExternalId: string, deviceId: string): Promise<void> {
  const user = await findUser(db, idOrExternalId);
  const { count } = await db.pushDevice.deleteMany({ where: { id: deviceId, userId: user.id } });
  if (count === 0) throw new NotFoundError(`Push device ${deviceId}`);
}
