// Herald with an SMTP sink and the Telegram fake, and the API calls the flow tests make (test/flow*.test.ts).
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { startSmtpSink, type SmtpSink } from '../../tools/fakes/smtp-sink.js';
import { startTelegramFake, type TelegramFake } from '../../tools/fakes/telegram-fake.js';
import { deliveryClient } from './deliveries.js';
import { startHerald, testEnv, uniqueId, type RunningStack } from './stack.js';

const BOT_TOKEN = '123456:TEST-token_abcdefghijklmnopqrstuvwxyz';

export interface FlowView {
  status: string;
  title: string | null;
  flow: { key: string; version: number } | null;
  flowSteps: { path: string; type: string; outcome: string; detail?: string }[];
  digest: { workflowId: string; notificationId: string | null } | null;
  deliveries: { channel: string; status: string }[];
}

export interface FlowStack {
  smtp: SmtpSink;
  telegram: TelegramFake;
  herald: RunningStack;
}

export function useFlowStack() {
  const stack = {} as FlowStack;
  before(async () => {
    [stack.smtp, stack.telegram] = await Promise.all([
      startSmtpSink(),
      startTelegramFake({ token: BOT_TOKEN }),
    ]);
    const fast = { initialInterval: '200ms', maximumInterval: '2s' };
    stack.herald = await startHerald(
      testEnv({
        SMTP_URL: stack.smtp.url,
        MAIL_FROM: 'Herald <herald@example.test>',
        TELEGRAM_BOT_TOKEN: BOT_TOKEN,
        TELEGRAM_API_URL: stack.telegram.url,
        DELIVERY_RETRY_POLICIES: JSON.stringify({ email: fast, telegram: fast }),
      }),
    );
  });
  after(async () => {
    await stack.herald?.stop();
    await Promise.all([stack.smtp?.close(), stack.telegram?.stop()]);
  });
  const { createUser, settled } = deliveryClient(() => stack.herald);

  const putFlow = async (key: string, body: unknown) => {
    const res = await stack.herald.api(`/v1/flows/${key}`, { method: 'PUT', json: body });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const notify = async (fields: Record<string, unknown>) => {
    const res = await stack.herald.api('/v1/notifications', {
      json: { category: 'updates', title: 'Hello', body: 'Flow test', ...fields },
    });
    assert.equal(res.status, 202, await res.clone().text());
    return (await res.json()) as { id: string; workflowId: string };
  };
  const view = async (id: string) =>
    (await (await stack.herald.api(`/v1/notifications/${id}`)).json()) as FlowView;
  const settledFlow = async (id: string, status: string) =>
    (await settled(id, status)) as unknown as FlowView;
  const mailsTo = (address: string) => stack.smtp.messages.filter((m) => m.envelopeTo.includes(address));
  /** A user with an email address and a Telegram chat. */
  const flowUser = async (fields: Record<string, unknown> = {}) => {
    const email = `${uniqueId('flow')}@example.test`;
    const chat = String(700_000 + Math.floor(Math.random() * 99_999));
    return { ...(await createUser({ email, telegramChatId: chat, ...fields })), email, chat };
  };
  return { stack, putFlow, notify, view, settled: settledFlow, mailsTo, flowUser, createUser };
}
