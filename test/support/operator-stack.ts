// What the operator tests (test/operators*.test.ts) share: Herald delivering email to an SMTP sink and
// SMS to the gateway fake, SMS retried every second for long enough to watch in the Temporal UI.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { startSmsGateway, type SmsGateway } from '../../tools/fakes/sms-gateway.js';
import { startSmtpSink, type SmtpSink } from '../../tools/fakes/smtp-sink.js';
import { startHerald, testEnv, uniqueId, type RunningStack } from './stack.js';
import { workflowIdFor, type ChannelName } from '../../src/workflows/definitions.js';

export interface OperatorStack {
  smtp: SmtpSink;
  sms: SmsGateway;
  herald: RunningStack;
  /** A user with an email address and a phone number. */
  createUser(): Promise<{ id: string; email: string; phone: string }>;
  /** Sends a notification through the API and returns its id and workflow id. */
  notify(userId: string, channels: ChannelName[]): Promise<{ id: string; workflowId: string }>;
}

let phones = 0;

/** Registers before/after hooks that run the sinks and Herald; filled in before the tests start. */
export function useOperatorStack(): OperatorStack {
  const stack = {} as OperatorStack;
  before(async () => {
    [stack.smtp, stack.sms] = await Promise.all([startSmtpSink(), startSmsGateway()]);
    stack.herald = await startHerald(
      testEnv({
        SMTP_URL: stack.smtp.url,
        MAIL_FROM: 'Herald <herald@example.test>',
        SMS_PROVIDER: 'http',
        SMS_HTTP_URL: stack.sms.url,
        DELIVERY_RETRY_POLICIES: JSON.stringify({
          email: { initialInterval: '200ms', maximumInterval: '1s' },
          sms: {
            initialInterval: '500ms',
            backoffCoefficient: 1.5,
            maximumInterval: '1s',
            giveUpAfter: '10m',
          },
        }),
      }),
    );
  });
  after(async () => {
    await stack.herald?.stop();
    await Promise.all([stack.smtp?.close(), stack.sms?.stop()]);
  });

  stack.createUser = async () => {
    const email = `${uniqueId('ops')}@example.test`;
    const phone = `+1415555${String(1000 + ((process.pid + phones++) % 9000)).padStart(4, '0')}`;
    const res = await stack.herald.api('/v1/users', { json: { externalId: uniqueId('ops'), email, phone } });
    assert.equal(res.status, 201, await res.clone().text());
    return { id: ((await res.json()) as { id: string }).id, email, phone };
  };
  stack.notify = async (userId, channels) => {
    const res = await stack.herald.api('/v1/notifications', {
      json: { userId, category: 'billing', title: 'Invoice ready', body: 'Your invoice is ready.', channels },
    });
    assert.equal(res.status, 202, await res.clone().text());
    const { id } = (await res.json()) as { id: string };
    return { id, workflowId: workflowIdFor(id) };
  };
  return stack;
}
