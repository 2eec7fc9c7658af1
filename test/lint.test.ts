// The code's own rules, checked with the suite: the workflow sandbox (no Node built-ins, activities only
// as types) and the direction of dependencies (the bot and the domain never import the HTTP door).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from '../tools/local-stack/paths.js';

test('eslint passes on the whole project', { timeout: 180_000 }, async () => {
  const eslint = path.join(projectRoot, 'node_modules', '.bin', 'eslint');
  const result = await promisify(execFile)(eslint, ['.', '--max-warnings=0'], {
    cwd: projectRoot,
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    () => ({ ok: true, output: '' }),
    (error: { stdout?: string; stderr?: string }) => ({
      ok: false,
      output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
    }),
  );
  assert.ok(result.ok, `eslint found problems:\n${result.output}`);
});
