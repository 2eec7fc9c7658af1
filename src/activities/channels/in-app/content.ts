// What an in-app message holds beyond the title and body: where it leads and its buttons, taken from the
// notification's data (`data.url`, as for Web Push, and `data.actions`). Checked here, because the inbox
// shows them as links in the user's browser: only http(s) URLs and paths on the embedding page's site.
import { z } from 'zod';
import type { OutgoingMessage } from '../channel.js';
import { PermanentChannelError } from '../channel.js';

export const MAX_ACTIONS = 3;

/** `https://…`, `http://…`, or a path such as `/orders/42` (never `//host`, `javascript:` or `data:`). */
export const inboxUrlSchema = z
  .string()
  .max(2048)
  .refine(
    (value) => {
      if (/^\/(?![/\\])/.test(value)) return true;
      try {
        return ['http:', 'https:'].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: 'must be an http(s) URL or a path starting with /' },
  );

export const inboxActionSchema = z.strictObject({
  /** What the click reports back (the workflow's signal, the delivery's record). */
  id: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'must be 1-64 of A-Z a-z 0-9 _ . : -' }),
  label: z.string().trim().min(1).max(64),
  url: inboxUrlSchema.optional(),
});
export type InboxAction = z.infer<typeof inboxActionSchema>;

const linksSchema = z.object({
  url: inboxUrlSchema.optional(),
  actions: z.array(inboxActionSchema).max(MAX_ACTIONS).optional(),
});

export interface InboxContent {
  category: string;
  title: string;
  body: string;
  url: string | null;
  actions: InboxAction[];
  data: Record<string, unknown>;
  /** The message offers an acknowledge action (the notification asked: `ack`). */
  ackRequested: boolean;
}

/** The stored form of a message; malformed links or buttons fail the delivery for good, with the reason. */
export function inboxContent(message: OutgoingMessage): InboxContent {
  const parsed = linksSchema.safeParse({ url: message.data.url, actions: message.data.actions });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `data.${i.path.join('.')} ${i.message}`);
    throw new PermanentChannelError(`the in-app message cannot be shown: ${problems.join('; ')}`);
  }
  const ids = (parsed.data.actions ?? []).map((a) => a.id);
  if (new Set(ids).size !== ids.length)
    throw new PermanentChannelError('the in-app message cannot be shown: data.actions repeat an id');
  return {
    category: message.category,
    title: message.title,
    body: message.body,
    url: parsed.data.url ?? null,
    actions: parsed.data.actions ?? [],
    data: message.data,
    ackRequested: message.acknowledge !== undefined,
  };
}
