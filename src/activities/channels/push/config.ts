// The push channel's configuration: browsers through Web Push (VAPID), phones through Firebase Cloud
// Messaging and Apple's push service. Any one of the three turns the channel on.
import { z } from 'zod';
import { defineConfigSlice, variable, type ConfigProblem } from '../../../platform/config/define.js';

export interface PushConfig {
  vapid: { publicKey?: string; privateKey?: string; subject: string };
  push: { ttlSeconds: number };
  /** Set when FCM_SERVICE_ACCOUNT is: the account as given (a path or the JSON), read by the worker. */
  fcm?: { serviceAccount: string; apiUrl: string };
  /** Set when the APNs variables are: the key as given (a path or the PEM), read by the worker. */
  apns?: { key: string; keyId: string; teamId: string; topic: string; apiUrl: string };
}

const APNS_IDENTITY = ['APNS_KEY', 'APNS_KEY_ID', 'APNS_TEAM_ID', 'APNS_TOPIC'] as const;
/** Apple's key and team identifiers: ten letters and digits. */
const appleId = z.string().regex(/^[A-Z0-9]{10}$/, { message: 'must be 10 capital letters and digits' });
const baseUrl = z.url({ protocol: /^https?$/, message: 'must be an http or https URL' });

export const pushConfig = defineConfigSlice({
  title: 'Push: browsers (Web Push) and phones (FCM, APNs)',
  summary:
    'The push channel is on when VAPID keys, FCM or APNs are configured; it delivers to every browser subscription and device of the user whose provider is configured.',
  variables: {
    VAPID_PUBLIC_KEY: variable({
      description:
        "The VAPID public key browsers subscribe with; set both keys or neither, and browser push is off without them. Keep the pair: browsers' subscriptions are bound to it.",
      parse: z.string().min(1),
      whenUnset: 'unset; `npm run dev` generates a pair into `.data/vapid.json`',
    }),
    VAPID_PRIVATE_KEY: variable({
      description:
        'The VAPID private key that signs each push (`npx web-push generate-vapid-keys` makes a pair).',
      parse: z.string().min(1),
      secret: true,
    }),
    VAPID_SUBJECT: variable({
      description: 'A contact for push services, `mailto:` or `https:`.',
      parse: z.string().min(1),
      default: 'mailto:herald@localhost',
    }),
    PUSH_TTL_SECONDS: variable({
      description:
        'How long, in seconds, a push service (Web Push, FCM, APNs) keeps a message for a device that is offline (at most 28 days).',
      parse: z.coerce.number().int().min(0).max(2_419_200),
      default: '86400',
    }),
    FCM_SERVICE_ACCOUNT: variable({
      description:
        "Firebase Cloud Messaging (Android apps, and iOS apps that use FCM): a Google service account's JSON key, as the path to the file or the JSON itself. Its `project_id`, `client_email`, `private_key` and `token_uri` are used; FCM is off without it.",
      parse: z.string().min(1),
      secret: true,
    }),
    FCM_API_URL: variable({
      description: 'Where FCM HTTP v1 is reached (`/v1/projects/<project_id>/messages:send`).',
      parse: baseUrl,
      default: 'https://fcm.googleapis.com',
    }),
    APNS_KEY: variable({
      description:
        "Apple Push Notification service: the token-based authentication key (.p8) from Apple's developer account, as the path to the file or the PEM itself. Set it with `APNS_KEY_ID`, `APNS_TEAM_ID` and `APNS_TOPIC`; APNs is off without them.",
      parse: z.string().min(1),
      secret: true,
    }),
    APNS_KEY_ID: variable({ description: "The key's id (10 characters).", parse: appleId }),
    APNS_TEAM_ID: variable({ description: 'The Apple developer team id (10 characters).', parse: appleId }),
    APNS_TOPIC: variable({
      description: "The app's bundle id, such as `com.example.app`.",
      parse: z.string().regex(/^[A-Za-z0-9.-]+$/, { message: 'must be a bundle id such as com.example.app' }),
    }),
    APNS_API_URL: variable({
      description:
        'Where APNs is reached over HTTP/2; `https://api.sandbox.push.apple.com` for development builds of the app (a development token sent to production is refused as a bad token, and its device deactivated).',
      parse: baseUrl,
      default: 'https://api.push.apple.com',
    }),
  },
  check: (v) => {
    const problems: ConfigProblem[] = [];
    if (Boolean(v.VAPID_PUBLIC_KEY) !== Boolean(v.VAPID_PRIVATE_KEY))
      problems.push({
        variable: v.VAPID_PUBLIC_KEY ? 'VAPID_PRIVATE_KEY' : 'VAPID_PUBLIC_KEY',
        message: 'VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY must be set together',
      });
    // Half an APNs identity fails every send: name what is missing at start-up instead.
    if (APNS_IDENTITY.some((name) => v[name]))
      for (const name of APNS_IDENTITY.filter((n) => !v[n]))
        problems.push({ variable: name, message: `${APNS_IDENTITY.join(', ')} must be set together` });
    return problems;
  },
  toConfig: (v): PushConfig => ({
    vapid: { publicKey: v.VAPID_PUBLIC_KEY, privateKey: v.VAPID_PRIVATE_KEY, subject: v.VAPID_SUBJECT },
    push: { ttlSeconds: v.PUSH_TTL_SECONDS },
    ...(v.FCM_SERVICE_ACCOUNT && { fcm: { serviceAccount: v.FCM_SERVICE_ACCOUNT, apiUrl: v.FCM_API_URL } }),
    ...(v.APNS_KEY &&
      v.APNS_KEY_ID &&
      v.APNS_TEAM_ID &&
      v.APNS_TOPIC && {
        apns: {
          key: v.APNS_KEY,
          keyId: v.APNS_KEY_ID,
          teamId: v.APNS_TEAM_ID,
          topic: v.APNS_TOPIC,
          apiUrl: v.APNS_API_URL,
        },
      }),
  }),
});

// Adds this channel's settings to Config, so nothing outside this folder names them.
declare module '../../../platform/config.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merged into Config
  interface ChannelSettings extends PushConfig {}
}
