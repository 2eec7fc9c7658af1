// What a chaos run proves, read from the sinks and the database after the load has settled: every
// accepted notification is final, every deliverable delivery arrived, what arrived twice, and whether
// the database agrees with what the sinks saw.
import type pg from 'pg';
import type { Sinks } from '../tools/fakes/sinks.js';
import { PUSH_TARGETS, recipientOf, type PushTarget } from './stack.js';

export const CHANNELS = ['email', 'push', 'telegram', 'sms', 'slack', 'discord', 'teams'] as const;
export type ChaosChannel = (typeof CHANNELS)[number];
export const FINAL_STATES = ['sent', 'partially_sent', 'failed', 'skipped'];

type PerChannel = Record<ChaosChannel, number>;
const perChannel = (): PerChannel =>
  Object.fromEntries(CHANNELS.map((channel) => [channel, 0])) as PerChannel;

export interface Verdict {
  accepted: number;
  finalStates: Record<string, number>;
  delivered: PerChannel;
  /** Push deliveries by what reached the recipient: a browser (Web Push), an FCM or an APNs phone. */
  pushDelivered: Record<PushTarget, number>;
  /** Deliveries the provider's receipt confirmed (`delivered`: Twilio's status callback). */
  confirmed: PerChannel;
  /** Deliveries refused for good by the provider, each explained (a push target gone: 410, UNREGISTERED). */
  permanentFailures: PerChannel;
  duplicates: PerChannel;
  /**
   * Duplicates no attempt explains. A receipt repeats only when a send's outcome was lost on its way
   * back: the worker was killed mid-send (an attempt with no outcome) or the connection was cut after the
   * provider had the message (a transient failure with no provider answer). SMTP cannot tell Herald
   * which of those arrived (RFC 1047), so it sends again, with the same Message-ID; any other duplicate
   * is a bug.
   */
  unexplainedDuplicates: PerChannel;
  /** Each a notification or delivery that did not end as it must: the run fails on any. */
  lost: string[];
  /** The database says one thing and the sink another. */
  disagreements: string[];
  /** Receipts at a sink for no accepted notification. */
  strays: number;
}

/** Receipts per channel, keyed by recipient index (one notification per recipient). */
export function countReceipts(sinks: Sinks): Record<ChaosChannel, Map<number, number>> {
  const counts = Object.fromEntries(CHANNELS.map((channel) => [channel, new Map()])) as Record<
    ChaosChannel,
    Map<number, number>
  >;
  const add = (channel: ChaosChannel, index: number) =>
    counts[channel].set(index, (counts[channel].get(index) ?? 0) + 1);
  for (const mail of sinks.smtp.messages) {
    const match = /^u(\d+)@chaos\.test$/.exec(mail.envelopeTo[0] ?? '');
    add('email', match ? Number(match[1]) : -1);
  }
  // Push: only what each provider accepted (Web Push 201, FCM and APNs 200) reached the browser or phone.
  for (const index of pushReceipts(sinks).map(([, i]) => i)) add('push', index);
  for (const message of sinks.telegram.messages) add('telegram', Number(message.chatId) - 1_000_000);
  // SMS goes through Twilio; the HTTP gateway is covered by its own tests.
  for (const message of sinks.twilio.messages) add('sms', Number(message.to.slice('+1555'.length)));
  for (const message of sinks.slack.messages) add('slack', Number(message.channel.slice(1)));
  for (const message of sinks.discord.messages) add('discord', Number(message.webhookId) - 1_000_000);
  for (const card of sinks.teams.cards) add('teams', Number.parseInt(card.workflowId, 10));
  return counts;
}

/** Push sends each provider accepted, as [target kind, recipient index]. */
function pushReceipts(sinks: Sinks): [PushTarget, number][] {
  const index = (match: RegExpExecArray | null) => (match ? Number(match[1]) : -1);
  return [
    ...sinks.push.received
      .filter((r) => r.status === 201)
      .map((r): [PushTarget, number] => ['browser', index(/^\/push\/u(\d+)$/.exec(r.path))]),
    ...sinks.fcm.requests
      .filter((r) => r.status === 200)
      .map((r): [PushTarget, number] => ['fcm', index(/^chaos-fcm-(\d+)$/.exec(r.message?.token ?? ''))]),
    ...sinks.apns.requests
      .filter((r) => r.status === 200)
      .map((r): [PushTarget, number] => ['apns', index(/^(\d{64})$/.exec(r.token))]),
  ];
}

/** Recipients whose push arrived, by the kind of target their push went to. */
function pushDeliveredByTarget(sinks: Sinks, accepted: Set<number>): Record<PushTarget, number> {
  const reached = Object.fromEntries(PUSH_TARGETS.map((t) => [t, new Set<number>()])) as Record<
    PushTarget,
    Set<number>
  >;
  for (const [target, i] of pushReceipts(sinks))
    if (accepted.has(i) && recipientOf.pushTarget(i) === target) reached[target].add(i);
  return Object.fromEntries(PUSH_TARGETS.map((t) => [t, reached[t].size])) as Record<PushTarget, number>;
}

/** Messages at all the sinks the suite sends to, accepted or not (push), for telling when they are quiet. */
export const receiptCount = (sinks: Sinks): number =>
  sinks.smtp.messages.length +
  sinks.push.received.length +
  sinks.fcm.requests.length +
  sinks.apns.requests.length +
  sinks.telegram.messages.length +
  sinks.twilio.messages.length +
  sinks.slack.messages.length +
  sinks.discord.messages.length +
  sinks.teams.cards.length;

/** The 429 and 5xx answers each new provider's fake gave: the bursts, as Herald met them. */
export function refusedAnswers(
  sinks: Sinks,
): Record<'slack' | 'discord' | 'teams' | 'twilio' | 'fcm' | 'apns', number> {
  const refused = (requests: { status: number }[]) =>
    requests.filter((r) => r.status === 429 || r.status >= 500).length;
  return {
    slack: refused(sinks.slack.requests),
    discord: refused(sinks.discord.requests),
    teams: refused(sinks.teams.requests),
    twilio: refused(sinks.twilio.requests),
    fcm: refused(sinks.fcm.requests),
    apns: refused(sinks.apns.requests),
  };
}

/** Email Message-IDs seen more than once: the id is `<notificationId>.email@domain`, stable per notification. */
export function repeatedMessageIds(sinks: Sinks): number {
  const seen = new Set<string>();
  let repeated = 0;
  for (const mail of sinks.smtp.messages) {
    const id = mail.parsed.messageId ?? '';
    if (seen.has(id)) repeated++;
    seen.add(id);
  }
  return repeated;
}

interface Row {
  id: string;
  status: string;
  channel: ChaosChannel | null;
  delivery_status: string | null;
  last_error: string | null;
  /** Attempts whose outcome never reached Herald: the send may or may not have arrived. */
  ambiguous_attempts: number;
}

/**
 * A transient failure the provider answered (a 429, a 5xx): the message was refused, not lost on the way
 * back. Each channel's reason names its provider and the answer: its status, or Slack's error code
 * (`Slack ratelimited`, `Slack internal_error`), where an unanswered one reads `Slack timed out` or
 * `Slack unreachable: ECONNRESET`.
 */
const ANSWERED = `^((SMTP|push|FCM|APNs|Telegram|SMS gateway|Twilio|Discord|Teams) [0-9]{3}|Slack [a-z_0-9]+$)`;

/**
 * An attempt that may have delivered without Herald hearing of it: it never finished (the worker died),
 * or it failed transiently with no answer from the provider (a cut connection) other than a refused one.
 */
const AMBIGUOUS_ATTEMPT = `(a.outcome IS NULL OR (a.outcome = 'transient_failure'
  AND a.error !~ '${ANSWERED}' AND a.error !~ 'ECONNREFUSED'))`;

export async function verify(options: {
  pool: pg.Pool;
  sinks: Sinks;
  /** Recipient index → id of the notification the API accepted for it. */
  accepted: Map<number, string>;
  goneSubscriptions: Set<number>;
}): Promise<Verdict> {
  const { accepted, goneSubscriptions } = options;
  const { rows } = await options.pool.query<Row>(
    `SELECT n.id, n.status, d.channel, d.status AS delivery_status, d.last_error,
       (SELECT count(*)::int FROM delivery_attempts a
        WHERE a.delivery_id = d.id AND ${AMBIGUOUS_ATTEMPT}) AS ambiguous_attempts
     FROM notifications n LEFT JOIN deliveries d ON d.notification_id = n.id`,
  );
  const byId = new Map<string, { status: string; deliveries: Map<ChaosChannel, Row> }>();
  for (const row of rows) {
    const entry = byId.get(row.id) ?? { status: row.status, deliveries: new Map() };
    if (row.channel) entry.deliveries.set(row.channel, row);
    byId.set(row.id, entry);
  }
  const receipts = countReceipts(options.sinks);
  const verdict: Verdict = {
    accepted: accepted.size,
    finalStates: {},
    delivered: perChannel(),
    pushDelivered: pushDeliveredByTarget(options.sinks, new Set(accepted.keys())),
    confirmed: perChannel(),
    permanentFailures: perChannel(),
    duplicates: perChannel(),
    unexplainedDuplicates: perChannel(),
    lost: [],
    disagreements: [],
    strays: 0,
  };

  for (const [index, id] of accepted) {
    const notification = byId.get(id);
    if (!notification) {
      verdict.lost.push(`#${index} ${id}: accepted but not in the database`);
      continue;
    }
    verdict.finalStates[notification.status] = (verdict.finalStates[notification.status] ?? 0) + 1;
    if (!FINAL_STATES.includes(notification.status))
      verdict.lost.push(`#${index} ${id}: still ${notification.status}`);
    for (const channel of CHANNELS) {
      const received = receipts[channel].get(index) ?? 0;
      const delivery = notification.deliveries.get(channel);
      if (received > 1) {
        verdict.duplicates[channel] += received - 1;
        verdict.unexplainedDuplicates[channel] += Math.max(
          0,
          received - 1 - (delivery?.ambiguous_attempts ?? 0),
        );
      }
      if (received > 0) verdict.delivered[channel]++;
      const gone = channel === 'push' && goneSubscriptions.has(index);
      const status = delivery?.delivery_status ?? 'missing';
      if (status === 'delivered') verdict.confirmed[channel]++;
      // `delivered` is `sent` confirmed by the provider's receipt.
      if (status === 'sent' || status === 'delivered') {
        if (received === 0) verdict.lost.push(`#${index} ${channel}: sent in the database, never arrived`);
      } else if (status === 'failed' && gone && /410|UNREGISTERED/.test(delivery?.last_error ?? '')) {
        verdict.permanentFailures[channel]++;
        if (received > 0) verdict.disagreements.push(`#${index} ${channel}: failed in the database, arrived`);
      } else {
        verdict.lost.push(`#${index} ${channel}: ${status} (${delivery?.last_error ?? 'no error'})`);
        if (received > 0)
          verdict.disagreements.push(`#${index} ${channel}: ${status} in the database, arrived`);
      }
    }
    // A receipt settles the delivery only: the notification stays sent (docs/reliability.md).
    const handedOver = ['sent', 'delivered', 'undelivered'];
    const expected = notification.deliveries.size
      ? [...notification.deliveries.values()].every((d) => handedOver.includes(d.delivery_status ?? ''))
        ? 'sent'
        : 'partially_sent'
      : 'skipped';
    if (FINAL_STATES.includes(notification.status) && notification.status !== expected)
      verdict.disagreements.push(
        `#${index}: notification ${notification.status}, its deliveries say ${expected}`,
      );
  }
  // One notification per request, however often it was retried: a second row for a key, or a row no
  // client was told of, is a notification sent twice or left behind.
  const acceptedIds = new Set(accepted.values());
  for (const [id, notification] of byId) {
    if (acceptedIds.has(id)) continue;
    verdict.disagreements.push(`${id}: recorded (${notification.status}) but no client was told of it`);
  }
  const acceptedIndexes = new Set(accepted.keys());
  for (const channel of CHANNELS)
    for (const index of receipts[channel].keys()) if (!acceptedIndexes.has(index)) verdict.strays++;
  return verdict;
}
