import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { projectRoot } from '../../tools/local-stack/paths.js';

/** Recorded workflow histories the replay test runs through the current workflow code. */
export const HISTORIES_DIR = path.join(projectRoot, 'test', 'fixtures', 'histories');

/**
 * Saves a closed workflow's history as a replay fixture, when the run records them:
 * `npm run record-histories` (HERALD_RECORD_HISTORIES=1). Otherwise does nothing.
 */
export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (!process.env.HERALD_RECORD_HISTORIES) return;
  // Polled rather than awaited with result(), which lets a time-skipping server jump ahead.
  for (let i = 0; i < 200 && (await handle.describe()).status.name === 'RUNNING'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  mkdirSync(HISTORIES_DIR, { recursive: true });
  // protobufjs's own JSON form (the SDK's historyToJSON trips over duplicate protobufjs copies here).
  const json = History.toObject(History.fromObject(await handle.fetchHistory()), JSON_FORM);
  writeFileSync(path.join(HISTORIES_DIR, `${name}.json`), JSON.stringify(json, null, 1) + '\n');
}

const { History } = proto.temporal.api.history.v1;
const JSON_FORM = { longs: String, enums: String, bytes: String, defaults: false } as const;

/**
 * The recorded histories: the current workflow code's at the top and, in subfolders, any recorded by
 * earlier code that a running notification may still need (`before-<patch id>/` while a patch is in
 * place; see docs/workflow-versioning.md).
 */
export function loadHistories(): { workflowId: string; history: proto.temporal.api.history.v1.IHistory }[] {
  return readdirSync(HISTORIES_DIR, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({
      workflowId: file.slice(0, -'.json'.length),
      history: History.fromObject(JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8'))),
    }));
}
