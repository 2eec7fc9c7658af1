import type { z } from 'zod';
import { problems, type FieldError } from './problem.js';
import type { OutboundPolicy } from '../platform/outbound.js';
import { CONTACT_CHANNELS } from '../activities/channels/registry.js';
import {
  pushSubscriptionSchema,
  type ContactChanges,
  type PushSubscriptionInput,
} from '../domain/schemas.js';

/** How deep input may nest: notification data needs little, and the database client gives up near 120. */
const MAX_DEPTH = 32;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE = 'must not contain NUL or unpaired surrogates';
/** PostgreSQL text holds no NUL, and jsonb no unpaired surrogate. */
const storable = (text: string): boolean => !text.includes('\0') && !LONE_SURROGATE.test(text);

/**
 * What in the input PostgreSQL could not store: strings and keys it cannot hold, and nesting deeper
 * than MAX_DEPTH. Iterative, since a 256 KB body can nest far deeper than the call stack.
 */
export function unstorableFields(input: unknown): FieldError[] {
  const found: FieldError[] = [];
  const pending: [unknown, string, number][] = [[input, '', 0]];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const [value, path, depth] = item;
    if (typeof value === 'string' && !storable(value))
      found.push({ field: path || '(body)', message: UNSTORABLE });
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_DEPTH) {
      found.push({ field: path, message: `nests more than ${MAX_DEPTH} levels deep` });
      continue;
    }
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      if (!storable(key)) found.push({ field: childPath, message: `its key ${UNSTORABLE}` });
      // Parsing copies objects key by key, and assigning `__proto__` sets a prototype: the key would vanish.
      if (key === '__proto__') found.push({ field: childPath, message: 'its key __proto__ is reserved' });
      pending.push([child, childPath, depth + 1]);
    }
  }
  return found;
}

/**
 * Parses input with a schema; a failure, or input PostgreSQL cannot store, becomes a 422 listing every
 * field. `where` names the input as a whole: `(body)`, `(query)`, or a path parameter or header.
 */
export function parse<S extends z.ZodType>(schema: S, input: unknown, where = '(body)'): z.infer<S> {
  const result = schema.safeParse(input);
  const errors: FieldError[] = result.success
    ? []
    : result.error.issues.map((issue) => ({
        field: issue.path.length > 0 ? issue.path.join('.') : where,
        message: issue.message,
      }));
  errors.push(...unstorableFields(input).map((e) => (e.field === '(body)' ? { ...e, field: where } : e)));
  if (errors.length > 0) throw problems.validation(errors);
  return result.data as z.infer<S>;
}

/**
 * A URL Herald will send to, from an API caller or an end user: a literal private, loopback or link-local
 * address (in any spelling) or `localhost` is a 422 on `field`, unless OUTBOUND_ALLOWED_HOSTS allows it.
 * A name passes: it is checked again, after DNS resolution, when Herald connects.
 */
export function checkOutboundUrl(outbound: OutboundPolicy, url: string, field: string): void {
  const refused = outbound.checkUrl(url);
  if (refused) throw problems.validation([{ field, message: refused }]);
}

/** A browser's push subscription, whose endpoint must not point at a private address. */
export function checkedPushSubscription(outbound: OutboundPolicy, body: unknown): PushSubscriptionInput {
  const input = parse(pushSubscriptionSchema, body);
  checkOutboundUrl(outbound, input.endpoint, 'endpoint');
  return input;
}

/** Contacts that are URLs Herald sends to (chat webhooks): refused as webhook URLs are, each by its field. */
export function checkContactUrls(outbound: OutboundPolicy, contacts: ContactChanges): void {
  const errors = CONTACT_CHANNELS.flatMap(({ channel, contact }) => {
    const address = contacts[channel];
    const refused =
      contact.outboundUrl && typeof address === 'string' ? outbound.checkUrl(address) : undefined;
    return refused ? [{ field: `contacts.${channel}`, message: refused }] : [];
  });
  if (errors.length > 0) throw problems.validation(errors);
}
