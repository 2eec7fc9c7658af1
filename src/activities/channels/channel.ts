import type { z } from 'zod';
import type { Config } from '../../platform/config.js';
import type { ConfigSlice } from '../../platform/config/define.js';
import type { Db } from '../../store/db.js';
import type { Logger } from '../../platform/logger.js';
import type { ChannelName } from './registry.js';

/** What a channel needs to know about the person it delivers to. */
export interface Recipient {
  id: string;
  locale: string;
  /** Signed into the opt-out links an email carries, so revoking the user's links voids them too. */
  linkVersion: number;
  /** The user's address on each channel that has one (from the contacts table). */
  contacts: Partial<Record<ChannelName, string>>;
  /** Browser push keeps several subscriptions per user, each with its keys. */
  pushSubscriptions: { id: string; endpoint: string; p256dh: string; auth: string }[];
  /** Phones registered with FCM or APNs, also reached by push. Absent: none (a recipient made by hand). */
  pushDevices?: PushDevice[];
}

/** One app on one phone, by the token its push provider gave it. */
export interface PushDevice {
  id: string;
  provider: 'fcm' | 'apns';
  token: string;
}

/** The rendered content of one notification on one channel. */
export interface OutgoingMessage {
  notificationId: string;
  category: string;
  /** Already rendered (template and locale applied); plain text, never markup. */
  title: string;
  body: string;
  /** The caller's data; `data.url`, when a string, is where the notification leads. */
  data: Record<string, unknown>;
  /** Present when the recipient is asked to acknowledge it: each channel offers the action its way. */
  acknowledge?: AcknowledgeAction;
}

/** How the recipient acknowledges this delivery (src/domain/acknowledgement-links.ts signs both). */
export interface AcknowledgeAction {
  deliveryId: string;
  /** A signed link to a page that acknowledges it; absent without PREFERENCES_SECRET. */
  url?: string;
  /** A signed payload for a chat button (Telegram's callback_data); absent without PREFERENCES_SECRET. */
  buttonData?: string;
}

/** Where the notification leads: `data.url` when it is a web link (a button or an action in chat messages). */
export function notificationLink(message: OutgoingMessage): string | undefined {
  const url = message.data.url;
  if (typeof url !== 'string' || url.length > 2048 || !URL.canParse(url)) return undefined;
  return ['https:', 'http:'].includes(new URL(url).protocol) ? url : undefined;
}

export interface SendResult {
  providerMessageId?: string;
}

/** How a provider's error should be treated: permanent errors are never retried. */
export interface FailureClass {
  permanent: boolean;
  reason: string;
  /** A delay the provider asked for (such as Telegram's retry_after), in milliseconds. */
  retryAfterMs?: number;
}

/** The delivery attempt a send belongs to: the send must not outlive it. */
export interface SendAttempt {
  /**
   * Aborts when the attempt's time budget runs out or Temporal gives up on the attempt: stop talking to
   * the provider then, or a retry may overlap this send.
   */
  readonly signal: AbortSignal;
  /** When the budget runs out (ms since the epoch): a send made of several steps shares what is left. */
  readonly deadline: number;
}

/** A channel's live provider connection: sends one message and judges its failures. */
export interface ChannelProvider {
  readonly channel: ChannelName;
  /** Without an attempt (the bot's verification codes), the provider's own timeouts bound the send. */
  send(recipient: Recipient, message: OutgoingMessage, attempt?: SendAttempt): Promise<SendResult>;
  classify(error: unknown): FailureClass;
  close(): Promise<void>;
}

/** A failure the channel itself detected before calling its provider (such as a missing address). */
export class PermanentChannelError extends Error {
  override name = 'PermanentChannelError';
}

/**
 * What an address on a channel is, for channels with one address per user (kept in the contacts table).
 * The API's user schemas, the user views, the preference page and the bot are derived from it.
 */
export interface ContactDefinition {
  /** What a valid address is: the API and the bot validate with it. */
  readonly schema: z.ZodType<string>;
  /** The user's own field in the API (`email`), from before `contacts`; new channels use `contacts` only. */
  readonly userField?: string;
  /**
   * How the API returns the address. A secret (a webhook URL, a token) is never returned in full;
   * absent: shown as it is.
   */
  mask?(address: string): string;
  /**
   * The address is a URL Herald sends to (a chat webhook): the API refuses it (422) when it points at a
   * private network unless OUTBOUND_ALLOWED_HOSTS allows it, and the channel connects through the
   * outbound policy's agent, which checks again after DNS resolution.
   */
  readonly outboundUrl?: boolean;
  /** The address partly hidden, as the preference page shows it to whoever holds the link. */
  hint(address: string): string;
  /** What the preference page says when the user has none. */
  readonly missing: string;
}

/** One delivery channel: adding a channel means writing one of these and listing it in the registry. */
export interface ChannelDefinition {
  readonly channel: ChannelName;
  /** How people see the channel named: the preference page (the bot shows the channel's own name). */
  readonly label: string;
  /**
   * The compose profiles that start its worker (docker-compose.yml's worker-<channel>, generated by
   * `npm run generate`): a channel that needs a provider's credentials runs only when asked. Absent: always.
   */
  readonly composeProfiles?: readonly string[];
  /**
   * Deliveries a second on its task queue, across every worker, unless CHANNEL_RATE_LIMITS says
   * otherwise: under the provider's own limit. Absent: no limit.
   */
  readonly defaultRateLimit?: number;
  /**
   * The variables its worker-<channel> service gets besides the shared settings (generated into
   * docker-compose.yml): what its provider reads, so no other container sees its credentials.
   * Absent: every variable of its config slice.
   */
  readonly workerEnvironment?: readonly string[];
  /** Absent for a channel whose addresses have their own routes (browser push subscriptions). */
  readonly contact?: ContactDefinition;
  /**
   * For a channel every user has without giving an address (the in-app inbox): what the preference
   * page shows in place of one.
   */
  readonly implicitAddress?: string;
  /** Whether the recipient has an address on this channel at all. */
  hasAddress(recipient: Recipient): boolean;
  /** Its environment variables (its own config.ts): read into Config, listed in docs/configuration.md. */
  readonly config: ConfigSlice;
  /** Whether this deployment configured a provider for the channel. */
  isConfigured(config: Config): boolean;
  create(config: Config, context: ChannelContext): ChannelProvider;
}

/** What a provider may use besides its own connection (push deactivates dead subscriptions). */
export interface ChannelContext {
  db: Db;
  logger: Logger;
  /** Extra CA certificates (PEM) to trust for provider endpoints: private relays, local test endpoints. */
  ca?: string;
}

/** The first `code` (ECONNREFUSED, ETIMEDOUT, ...) down an error's cause chain: fetch hides it in `cause`. */
export function systemCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const { code, cause } = e as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    e = cause;
  }
  return undefined;
}

/** A provider's requests in flight, cancelled by close() when the worker shuts down. */
export interface InFlightSends {
  /** Aborted by close(); a request obeys it through requestSignal(). */
  readonly signal: AbortSignal;
  /**
   * What one provider request must obey: the provider closing, the request's own timeout (absent:
   * bounded elsewhere, by the client library or by a caller that tells a timeout apart) and the
   * delivery attempt, whose budget running out or cancellation stops it (absent: the bot's codes).
   */
  requestSignal(attempt: SendAttempt | undefined, timeoutMs?: number): AbortSignal;
  /** A send that starts after close() would outlive the worker: refuse it. */
  throwIfClosed(): void;
  close(): void;
}

/** For providers over plain HTTP requests; those holding pools or agents close those instead. */
export function createInFlightSends(channelLabel: string): InFlightSends {
  const closing = new AbortController();
  return {
    signal: closing.signal,
    requestSignal(attempt, timeoutMs) {
      const signals = [
        closing.signal,
        ...(timeoutMs === undefined ? [] : [AbortSignal.timeout(timeoutMs)]),
        ...(attempt ? [attempt.signal] : []),
      ];
      return signals.length === 1 ? closing.signal : AbortSignal.any(signals);
    },
    throwIfClosed() {
      if (closing.signal.aborted) throw new Error(`the ${channelLabel} channel is closed`);
    },
    close() {
      closing.abort(new Error(`the ${channelLabel} channel was closed during the send`));
    },
  };
}

/** A provider asking to wait longer than this is misbehaving; Temporal's backoff takes over after it. */
const MAX_RETRY_AFTER_MS = 3_600_000;

/** Retry-After as delay-seconds or an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else if (/[a-z]/i.test(trimmed)) ms = Date.parse(trimmed) - now;
  else return undefined;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : undefined;
}
