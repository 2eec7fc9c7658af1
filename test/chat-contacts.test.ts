// The chat channels' addresses through the API (contacts.slack, contacts.discord, contacts.teams): set,
// cleared, webhook URLs masked in every answer, refused with 422 when malformed, not https or private;
// and the preference page offering the channels once they are on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PREFERENCES_SECRET, PUBLIC_URL } from './support/preference-center.js';
import { startHerald, testEnv, uniqueId, type RunningStack } from './support/stack.js';

const DISCORD = 'https://discord.com/api/webhooks/112233445566778899/Secret-Token_abc';
const TEAMS =
  'https://prod-42.westeurope.logic.azure.com:443/workflows/0123456789abcdef0123456789abcdef/triggers/manual/paths/invoke?api-version=2016-06-01&sig=SECRETsig';

interface UserView {
  id: string;
  contacts: Record<string, string>;
}
interface Problem {
  errors?: { field: string; message: string }[];
}

describe('chat channel contacts', () => {
  let herald: RunningStack;

  before(async () => {
    herald = await startHerald(
      testEnv({
        SLACK_BOT_TOKEN: 'xoxb-test',
        DISCORD_ENABLED: 'true',
        TEAMS_ENABLED: 'true',
        PREFERENCES_SECRET,
        PUBLIC_URL,
      }),
      // The API alone: nothing is delivered here.
      { queues: [] },
    );
  });
  after(async () => {
    await herald?.stop();
  });

  const createUser = async (contacts: Record<string, string>) => {
    const res = await herald.api('/v1/users', { json: { externalId: uniqueId('chat'), contacts } });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as UserView;
  };
  const stored = async (userId: string) =>
    Object.fromEntries(
      (await herald.db.contact.findMany({ where: { userId } })).map((c) => [c.channel, c.address]),
    );

  it('sets, shows (webhook URLs masked) and clears the three contacts', async () => {
    const user = await createUser({ slack: 'U123ABC', discord: DISCORD, teams: TEAMS });
    const masked = {
      slack: 'U123ABC',
      discord: 'https://discord.com/api/webhooks/112233445566778899/••••',
      teams: 'https://prod-42.westeurope.logic.azure.com/••••',
    };
    assert.deepEqual(user.contacts, masked);
    const got = (await (await herald.api(`/v1/users/${user.id}`)).json()) as UserView;
    assert.deepEqual(got.contacts, masked);
    // Stored whole: only answers mask them.
    assert.deepEqual(await stored(user.id), { slack: 'U123ABC', discord: DISCORD, teams: TEAMS });

    const patched = await herald.api(`/v1/users/${user.id}`, {
      method: 'PATCH',
      json: { contacts: { discord: null, slack: 'C0123ABCD' } },
    });
    assert.equal(patched.status, 200, await patched.clone().text());
    assert.deepEqual(((await patched.json()) as UserView).contacts, {
      slack: 'C0123ABCD',
      teams: masked.teams,
    });
    assert.deepEqual(await stored(user.id), { slack: 'C0123ABCD', teams: TEAMS });
  });

  it('refuses malformed, non-https and private addresses with 422 naming the field, and stores nothing', async () => {
    const user = await createUser({ slack: 'U123ABC', discord: DISCORD });
    const before = await stored(user.id);
    for (const [contacts, field] of [
      [{ slack: 'u123abc' }, 'contacts.slack'],
      [{ slack: '#general' }, 'contacts.slack'],
      [{ slack: '<!channel>' }, 'contacts.slack'],
      [{ discord: 'http://discord.com/api/webhooks/1/abc' }, 'contacts.discord'],
      [{ discord: 'https://discord.com/not-a-webhook' }, 'contacts.discord'],
      [{ discord: 'https://10.0.0.5/api/webhooks/1/abc' }, 'contacts.discord'],
      [{ discord: 'https://localhost/api/webhooks/1/abc' }, 'contacts.discord'],
      [{ discord: 'https://[::ffff:169.254.169.254]/api/webhooks/1/abc' }, 'contacts.discord'],
      [{ teams: 'http://prod-1.logic.azure.com/workflows/x' }, 'contacts.teams'],
      [{ teams: 'https://192.168.1.10/workflows/x?sig=y' }, 'contacts.teams'],
      [{ teams: 'https://0x0a.1/workflows/x' }, 'contacts.teams'],
    ] as const) {
      const res = await herald.api(`/v1/users/${user.id}`, { method: 'PATCH', json: { contacts } });
      assert.equal(res.status, 422, JSON.stringify(contacts));
      const problem = (await res.json()) as Problem;
      assert.deepEqual(
        problem.errors?.map((e) => e.field),
        [field],
        JSON.stringify(contacts),
      );
    }
    const created = await herald.api('/v1/users', {
      json: { externalId: uniqueId('chat'), contacts: { teams: 'https://169.254.169.254/latest' } },
    });
    assert.equal(created.status, 422);
    assert.deepEqual(await stored(user.id), before);
  });

  it('shows the channels on the preference page, with their labels and the addresses partly hidden', async () => {
    const user = await createUser({ slack: 'U123ABC', discord: DISCORD });
    const link = (await (
      await herald.api(`/v1/users/${user.id}/preferences-link`, { method: 'POST' })
    ).json()) as { url: string };
    const token = new URL(link.url).pathname.split('/').pop()!;
    const res = await fetch(`${herald.apiUrl}/preferences/api/state`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200);
    const state = (await res.json()) as {
      channels: { channel: string; available: boolean; detail: string }[];
      labels: Record<string, string>;
    };
    const byChannel = Object.fromEntries(state.channels.map((c) => [c.channel, c]));
    assert.deepEqual(byChannel.slack, { channel: 'slack', available: true, detail: 'U12•••' });
    assert.deepEqual(byChannel.discord, {
      channel: 'discord',
      available: true,
      detail: 'a webhook on discord.com',
    });
    assert.deepEqual(byChannel.teams, {
      channel: 'teams',
      available: false,
      detail: 'no Teams webhook on file',
    });
    assert.equal(state.labels.slack, 'Slack');
    assert.equal(state.labels.discord, 'Discord');
    assert.equal(state.labels.teams, 'Microsoft Teams');
    // Nothing secret reaches the page: neither the token in the Discord URL nor anything of it beyond the host.
    assert.doesNotMatch(JSON.stringify(state), /Secret-Token/);
  });

  it('documents contacts.slack, contacts.discord and contacts.teams in the OpenAPI document', async () => {
    type Schema = { properties?: Record<string, Schema>; anyOf?: Schema[]; pattern?: string };
    const spec = (await (await fetch(`${herald.apiUrl}/openapi.json`)).json()) as {
      components: { schemas: Record<string, Schema> };
      paths: Record<string, Record<string, { requestBody: { content: Record<string, { schema: Schema }> } }>>;
    };
    const shown = spec.components.schemas.User!.properties!.contacts!.properties!;
    const accepted =
      spec.paths['/v1/users/{id}']!.patch!.requestBody.content['application/json']!.schema.properties!
        .contacts!.properties!;
    for (const channel of ['slack', 'discord', 'teams']) {
      assert.ok(shown[channel], `User.contacts.${channel}`);
      assert.ok(accepted[channel]?.anyOf?.[0]?.pattern, `PATCH contacts.${channel} has a pattern`);
    }
  });
});
