// The configuration reference stays true: docs/configuration.md is what the variables' definitions make,
// every variable src/ reads is defined, and the defaults the reference states from elsewhere hold.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CONFIG_SLICES, loadConfig } from '../src/platform/config.js';
import { variablesOf } from '../src/platform/config/define.js';
import { DEFAULT_RETRY } from '../src/workflows/policies.js';
import { WORKER_DATABASE_POOL_SIZE } from '../src/workers/tuning.js';
import { CONFIGURATION_DOC, renderConfigurationReference } from '../tools/generate-config-docs.js';
import { projectRoot } from '../tools/local-stack/paths.js';

const variables = variablesOf(CONFIG_SLICES);

/** Variables Herald may read without defining them: the runtime's own. */
const NOT_HERALDS = (name: string) => name === 'NODE_ENV' || name.startsWith('OTEL_');
/** The one place that hands process.env over whole: the loader, which reads only defined variables. */
const READS_ENV_WHOLE = new Set(['src/platform/config.ts']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('configuration reference', () => {
  it('docs/configuration.md is what npm run docs:config writes', async () => {
    const rendered = await renderConfigurationReference();
    const committed = readFileSync(CONFIGURATION_DOC, 'utf8');
    if (committed === rendered) return;
    const a = committed.split('\n');
    const b = rendered.split('\n');
    const line = a.findIndex((text, i) => text !== b[i]);
    const at = line === -1 ? b.length : line;
    assert.fail(
      `docs/configuration.md is stale: run npm run docs:config\n` +
        `  first difference at line ${at + 1}:\n  committed: ${a[at] ?? '(end of file)'}\n  generated: ${b[at] ?? '(end of file)'}`,
    );
  });

  it('defines every variable src/ reads from process.env', () => {
    const undefinedNames: string[] = [];
    const wholeReads: string[] = [];
    for (const file of sourceFiles(path.join(projectRoot, 'src'))) {
      const relative = path.relative(projectRoot, file).split(path.sep).join('/');
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(
        /process\.env(?:\??\.([A-Za-z_$][\w$]*)|\[\s*(['"`])([^'"`]+)\2\s*\])?/g,
      )) {
        const name = match[1] ?? match[3];
        const line = source.slice(0, match.index).split('\n').length;
        if (name === undefined) {
          if (!READS_ENV_WHOLE.has(relative)) wholeReads.push(`${relative}:${line}`);
        } else if (!variables.has(name) && !NOT_HERALDS(name)) {
          undefinedNames.push(`${name} (${relative}:${line})`);
        }
      }
    }
    assert.deepEqual(
      undefinedNames,
      [],
      `read from process.env but not defined in src/platform/config/ or a channel's config.ts: ${undefinedNames.join(', ')}`,
    );
    assert.deepEqual(
      wholeReads,
      [],
      `process.env used other than by name (read the variable by name, or through loadConfig): ${wholeReads.join(', ')}`,
    );
  });

  it('defines each variable well: a name, a sentence, a valid default', () => {
    for (const [name, definition] of variables) {
      assert.match(name, /^[A-Z][A-Z0-9_]*$/, `${name}: names are upper case`);
      assert.match(definition.description, /^[A-Z0-9`"'].*\.$/s, `${name}: describe it in sentences`);
      if (definition.presence === 'default') {
        assert.ok(definition.default, `${name}: an empty default would count as unset`);
        assert.equal(definition.whenUnset, undefined, `${name}: a default says what unset means`);
        assert.ok(definition.parse.safeParse(definition.default).success, `${name}: its default must parse`);
      }
    }
    // Every default parses in the loader too (it throws on one that does not).
    assert.doesNotThrow(() => loadConfig({ DATABASE_URL: 'postgres://127.0.0.1/herald' }));
  });

  it('states the defaults applied outside the configuration as they are', () => {
    const s = (ms: number) =>
      ms % 3_600_000 === 0
        ? `${ms / 3_600_000} h`
        : ms % 60_000 === 0
          ? `${ms / 60_000} min`
          : `${ms / 1000} s`;
    const { initialInterval, backoffCoefficient, maximumInterval, giveUpAfter, attemptTimeout } =
      DEFAULT_RETRY;
    assert.equal(
      variables.get('DELIVERY_RETRY_POLICIES')!.whenUnset,
      `${s(initialInterval)}, ${backoffCoefficient === 2 ? 'doubling' : `×${backoffCoefficient}`}, at most ${s(maximumInterval)} apart, giving up after ${s(giveUpAfter)}; ${s(attemptTimeout)} per attempt`,
      'src/workflows/policies.ts DEFAULT_RETRY changed: update the DELIVERY_RETRY_POLICIES definition',
    );
    assert.match(
      variables.get('DATABASE_POOL_SIZE')!.whenUnset!,
      new RegExp(`\\b${WORKER_DATABASE_POOL_SIZE} in a worker`),
      'src/workers/tuning.ts WORKER_DATABASE_POOL_SIZE changed: update the DATABASE_POOL_SIZE definition',
    );
  });
});
