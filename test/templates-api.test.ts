// Template routes: create, replace, read every locale, remove; and each refusal changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHerald, testEnv, uniqueId, type RunningStack } from './support/stack.js';

describe('templates API', () => {
  let herald: RunningStack;
  before(async () => {
    herald = await startHerald(testEnv(), { queues: [] });
  });
  after(() => herald?.stop());

  const key = () => uniqueId('tpl').toLowerCase();
  const put = (k: string, locale: string, json: unknown) =>
    herald.api(`/v1/templates/${k}/${locale}`, { method: 'PUT', json });

  it('creates (201), replaces (200), lists every locale and removes one', async () => {
    const k = key();
    const created = await put(k, 'en', { title: 'Order {{id}}', body: 'Shipped {{id}}' });
    assert.equal(created.status, 201);
    assert.deepEqual(
      { ...((await created.json()) as object), updatedAt: undefined },
      { key: k, locale: 'en', title: 'Order {{id}}', body: 'Shipped {{id}}', updatedAt: undefined },
    );
    assert.equal((await put(k, 'pt-BR', { title: 'Pedido', body: 'Enviado' })).status, 201);
    const replaced = await put(k, 'en', { title: 'Order #{{id}}', body: 'On its way' });
    assert.equal(replaced.status, 200);

    const read = (await (await herald.api(`/v1/templates/${k}`)).json()) as {
      key: string;
      locales: { locale: string; title: string }[];
    };
    assert.deepEqual(
      read.locales.map((l) => [l.locale, l.title]),
      [
        ['en', 'Order #{{id}}'],
        ['pt-BR', 'Pedido'],
      ],
    );
    assert.equal((await herald.api(`/v1/templates/${k}/pt-BR`, { method: 'DELETE' })).status, 204);
    assert.equal((await herald.api(`/v1/templates/${k}/pt-BR`, { method: 'DELETE' })).status, 404);
    assert.equal((await herald.api(`/v1/templates/${k}/en`, { method: 'DELETE' })).status, 204);
    assert.equal((await herald.api(`/v1/templates/${k}`)).status, 404);
  });

  it('refuses a bad key, locale or body with 422 naming the field, storing nothing', async () => {
    const before = await herald.db.template.count();
    const cases: [string, string, unknown, string][] = [
      ['Bad Key', 'en', { title: 't', body: 'b' }, 'key'],
      [key(), 'english!', { title: 't', body: 'b' }, 'locale'],
      [key(), 'en', { title: '', body: 'b' }, 'title'],
      [key(), 'en', { title: 't' }, 'body'],
      [key(), 'en', { title: 't', body: 'b', extra: 1 }, '(body)'],
      [key(), 'en', { title: 'x'.repeat(201), body: 'b' }, 'title'],
    ];
    for (const [k, locale, body, field] of cases) {
      const res = await put(encodeURIComponent(k), locale, body);
      assert.equal(res.status, 422, `${k} ${locale} ${JSON.stringify(body)}`);
      const problem = (await res.json()) as { errors: { field: string }[] };
      assert.ok(
        problem.errors.some((e) => e.field === field),
        `${JSON.stringify(body)} → ${JSON.stringify(problem.errors)}`,
      );
    }
    assert.equal(await herald.db.template.count(), before);
    assert.equal((await herald.api('/v1/templates/Bad%20Key')).status, 422);
  });

  it('stores loops and branches, and refuses text that does not compile with 422 naming each field', async () => {
    const k = key();
    const looping = { title: '{{items.length}} updates', body: '{{#each items}}- {{title}}\n{{/each}}' };
    assert.equal((await put(k, 'en', looping)).status, 201);

    const before = await herald.db.template.findMany({ where: { key: k } });
    const res = await put(k, 'en', { title: 'Order {{id', body: '{{#each items}}{{> row}}{{/each}}' });
    assert.equal(res.status, 422);
    const problem = (await res.json()) as { errors: { field: string; message: string }[] };
    assert.deepEqual(
      problem.errors.map((e) => e.field),
      ['title', 'body'],
    );
    assert.match(problem.errors[0]!.message, /does not compile: Parse error on line 1/);
    assert.match(problem.errors[1]!.message, /partials/);
    const unknownHelper = await put(key(), 'en', { title: 'T', body: '{{shout name}}' });
    assert.equal(unknownHelper.status, 422);
    assert.match(await unknownHelper.text(), /unknown helper shout/);
    assert.deepEqual(await herald.db.template.findMany({ where: { key: k } }), before);
  });
});
