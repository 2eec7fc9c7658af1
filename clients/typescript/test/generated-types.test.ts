// The client's committed types are what openapi-typescript makes of the document the running API
// serves at /openapi.json: a route or schema changed without `npm run generate` fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CLIENT_SCHEMA_FILE, renderClientTypes } from '../../../tools/generate-client-types.js';
import { startHerald, testEnv, type RunningStack } from '../../../test/support/stack.js';

describe('@herald/client generated types', () => {
  let herald: RunningStack;
  before(async () => {
    herald = await startHerald(testEnv(), { queues: [] });
  });
  after(async () => {
    await herald?.stop();
  });

  it('clients/typescript/src/schema.ts is what npm run generate makes of the served /openapi.json', async () => {
    const served: unknown = await (await fetch(`${herald.apiUrl}/openapi.json`)).json();
    const generated = await renderClientTypes(served);
    const committed = readFileSync(CLIENT_SCHEMA_FILE, 'utf8');
    if (generated === committed) return;
    const a = committed.split('\n');
    const b = generated.split('\n');
    const at = Math.max(
      0,
      a.findIndex((line, i) => line !== b[i]),
    );
    assert.fail(
      `${CLIENT_SCHEMA_FILE} is stale: run npm run generate\n` +
        `  first difference at line ${at + 1}:\n  committed: ${a[at] ?? '(end)'}\n  generated: ${b[at] ?? '(end)'}`,
    );
  });
});
