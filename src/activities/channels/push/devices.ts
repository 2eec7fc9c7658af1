// What a phone's push token is, per provider: the API validates device registrations with these.
import { z } from 'zod';
import type { PushDevice } from '../channel.js';

export const PUSH_PROVIDERS = ['fcm', 'apns'] as const satisfies readonly PushDevice['provider'][];

/** An FCM registration token: opaque, URL-safe letters, digits, `_`, `-` and `:` (about 160 today). */
export const fcmTokenSchema = z.string().regex(/^[A-Za-z0-9_:-]{32,4096}$/, {
  message: 'must be an FCM registration token (32 to 4096 letters, digits, _, - or :)',
});

/** An APNs device token in hex: 32 bytes today, and Apple warns that it may grow. */
export const apnsTokenSchema = z.string().regex(/^(?:[0-9A-Fa-f]{2}){32,100}$/, {
  message: 'must be an APNs device token in hex (64 characters today)',
});

/** Hex in either case names the same device: stored lower case, so registering again finds it. */
export const canonicalToken = (device: Pick<PushDevice, 'provider' | 'token'>): string =>
  device.provider === 'apns' ? device.token.toLowerCase() : device.token;

/** How the API shows a token: its end only, enough to tell a user's devices apart. */
export const maskToken = (token: string): string => `…${token.slice(-8)}`;
