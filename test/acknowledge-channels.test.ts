// What each channel shows when a notification asks to be acknowledged, sent over real connections to the
// providers' fakes: Slack a button, Teams an Action.OpenUrl, Discord a masked link, SMS a last line that
// is never cut, Web Push an `acknowledgeUrl` the service worker turns into an action, FCM a data field
// and APNs an actionable category with the link. All carry the same signed acknowledge link.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import webpush from 'web-push';
import type { OutgoingMessage } from '../src/activities/channels/channel.js';
import { createDiscordChannel } from '../src/activities/channels/discord/index.js';
import { readApnsKey } from '../src/activities/channels/push/apns.js';
import { readServiceAccount } from '../src/activities/channels/push/google-auth.js';
import { createPushChannel } from '../src/activities/channels/push/index.js';
import { createSlackChannel } from '../src/activities/channels/slack/index.js';
import { createSmsChannel } from '../src/activities/channels/sms/index.js';
import { countSegments } from '../src/activities/channels/sms/text.js';
import { createTeamsChannel } from '../src/activities/channels/teams/index.js';
import { createAcknowledgementLinks } from '../src/domain/acknowledgement-links.js';
import { createLogger } from '../src/platform/logger.js';
import { createOutboundPolicy } from '../src/platform/outbound.js';
import { createDb } from '../src/store/db.js';
import { startApnsFake } from '../tools/fakes/apns-fake.js';
import { startDiscordFake } from '../tools/fakes/discord-webhook.js';
import { startFcmFake } from '../tools/fakes/fcm-fake.js';
import { createBrowserSubscription, startPushEndpoint } from '../tools/fakes/push-endpoint.js';
import { startSlackFake } from '../tools/fakes/slack-api.js';
import { startSmsGateway } from '../tools/fakes/sms-gateway.js';
import { startTeamsFake } from '../tools/fakes/teams-webhook.js';
import { recipientOn } from './support/messages.js';
import { userWithPhones } from './support/push-devices.js';
import { PREFERENCES_SECRET, PUBLIC_URL } from './support/preference-center.js';
import { testEnv, uniqueId } from './support/stack.js';

const config = testEnv();
const db = createDb(config.databaseUrl);
const logger = createLogger('test', 'silent');
const outbound = createOutboundPolicy(['127.0.0.1']);
const links = createAcknowledgementLinks({ secret: PREFERENCES_SECRET, publicUrl: PUBLIC_URL });
const deliveryId = crypto.randomUUID();
const ACK_URL = links.url(deliveryId, { id: crypto.randomUUID(), linkVersion: 0 });

const asking = (body = 'The nightly backup did not finish.'): OutgoingMessage => ({
  notificationId: crypto.randomUUID(),
  category: 'alerts',
  title: 'Backup failed',
  body,
  data: {},
  acknowledge: { deliveryId, url: ACK_URL, buttonData: links.buttonData(deliveryId) },
});

const stops: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const stop of stops.reverse()) await stop();
  await db.$disconnect();
});

describe('the acknowledge action on each channel', () => {
  it('Slack: a primary button that opens the link', async () => {
    const slack = await startSlackFake({ token: 'xoxb-ack-test' });
    const channel = createSlackChannel({ botToken: 'xoxb-ack-test', apiUrl: slack.url });
    stops.push(
      () => slack.stop(),
      () => channel.close(),
    );
    await channel.send(recipientOn('slack', 'U123ABC45'), asking());
    const actions = slack.messages[0]!.blocks!.find((b) => (b as { type: string }).type === 'actions');
    assert.deepEqual(actions, {
      type: 'actions',
      elements: [
        { type: 'button', style: 'primary', text: { type: 'plain_text', text: 'Acknowledge' }, url: ACK_URL },
      ],
    });
  });

  it('Teams: an Action.OpenUrl on the card', async () => {
    const teams = await startTeamsFake();
    const channel = createTeamsChannel({ outbound, ca: teams.ca });
    stops.push(
      () => teams.stop(),
      () => channel.close(),
    );
    await channel.send(recipientOn('teams', teams.createWebhook()), asking());
    assert.deepEqual(teams.cards[0]!.card.actions, [
      { type: 'Action.OpenUrl', title: 'Acknowledge', url: ACK_URL, style: 'positive' },
    ]);
  });

  it('Discord: a masked link under the body, kept whole when the body is cut', async () => {
    const discord = await startDiscordFake();
    const channel = createDiscordChannel({ outbound, ca: discord.ca });
    stops.push(
      () => discord.stop(),
      () => channel.close(),
    );
    await channel.send(recipientOn('discord', discord.createWebhook()), asking('x'.repeat(5000)));
    const description = String(discord.messages[0]!.embeds![0]!.description);
    assert.ok(description.endsWith(`\n\n[Acknowledge](${ACK_URL})`), description.slice(-300));
    assert.ok(description.length <= 4096);
  });

  it('SMS: the link as the last line, never cut, within the segment limit', async () => {
    const gateway = await startSmsGateway({ token: 'sms-token' });
    const channel = createSmsChannel({ url: gateway.url, token: 'sms-token', maxSegments: 3 });
    stops.push(
      () => gateway.stop(),
      () => channel.close(),
    );
    await channel.send(recipientOn('sms', '+15550100200'), asking('Details: '.repeat(80)));
    const { text } = gateway.messages[0]!;
    assert.ok(text.endsWith(`\nAcknowledge: ${ACK_URL}`), text);
    assert.ok(text.startsWith('Backup failed\nDetails'), text);
    assert.ok(countSegments(text) <= 3, `${countSegments(text)} segments`);
  });

  it('Web Push: acknowledgeUrl in the encrypted payload', async () => {
    const endpoint = await startPushEndpoint();
    const vapid = { ...webpush.generateVAPIDKeys(), subject: 'mailto:ops@herald.test' };
    const channel = createPushChannel({ vapid, ttlSeconds: 60, db, logger, outbound, agent: endpoint.agent });
    stops.push(
      () => endpoint.stop(),
      () => channel.close(),
    );
    const url = endpoint.endpointUrl(uniqueId('browser'));
    const browser = createBrowserSubscription(url);
    const { keys } = browser.subscription;
    const user = await db.user.create({ data: { externalId: uniqueId('ack-push') } });
    const row = await db.pushSubscription.create({
      data: { userId: user.id, endpoint: url, p256dh: keys.p256dh, auth: keys.auth },
    });
    await channel.send(
      {
        ...recipientOn('push', null),
        id: user.id,
        pushSubscriptions: [{ id: row.id, endpoint: url, ...keys }],
      },
      asking(),
    );
    const payload = JSON.parse(browser.decrypt(endpoint.received.at(-1)!.body).toString('utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(payload.acknowledgeUrl, ACK_URL);
  });

  it('FCM: an acknowledgeUrl data field; APNs: the HERALD_ACKNOWLEDGE category and the link', async () => {
    const fcm = await startFcmFake();
    const apns = await startApnsFake();
    const channel = createPushChannel({
      fcm: { serviceAccount: readServiceAccount(JSON.stringify(fcm.serviceAccount)), apiUrl: fcm.url },
      apns: {
        key: readApnsKey(apns.key),
        keyId: apns.keyId,
        teamId: apns.teamId,
        topic: apns.topic,
        apiUrl: apns.url,
      },
      ttlSeconds: 60,
      db,
      logger,
      outbound,
      ca: `${fcm.ca}\n${apns.ca}`,
    });
    stops.push(
      () => fcm.stop(),
      () => apns.stop(),
      () => channel.close(),
    );
    const android = await userWithPhones(db, 'fcm');
    const iphone = await userWithPhones(db, 'apns');
    await channel.send(android.recipient, asking());
    await channel.send(iphone.recipient, asking());
    const data = fcm.requests.at(-1)!.message!.data as Record<string, string>;
    assert.equal(data.acknowledgeUrl, ACK_URL);
    const payload = apns.requests.at(-1)!.payload as { aps: { category?: string }; acknowledgeUrl?: string };
    assert.equal(payload.aps.category, 'HERALD_ACKNOWLEDGE');
    assert.equal(payload.acknowledgeUrl, ACK_URL);
  });

  it('nothing of it when the notification does not ask', async () => {
    const slack = await startSlackFake({ token: 'xoxb-ack-test' });
    const channel = createSlackChannel({ botToken: 'xoxb-ack-test', apiUrl: slack.url });
    stops.push(
      () => slack.stop(),
      () => channel.close(),
    );
    const { acknowledge: _, ...plain } = asking();
    await channel.send(recipientOn('slack', 'U123ABC45'), plain);
    assert.equal(JSON.stringify(slack.messages[0]!.blocks).includes('Acknowledge'), false);
  });
});
