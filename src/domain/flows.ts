// Flows defined through the API (docs/flows.md): immutable versions, and the version a new notification pins.
import { z } from 'zod';
import type { Db } from '../store/db.js';
import {
  addFlowVersion,
  findFlow,
  listFlowVersions,
  listFlows,
  markFlowDeleted,
  renameFlow,
} from '../store/flows.js';
import type { Step } from '../workflows/flows/steps.js';
import { InvalidInputError, NotFoundError } from './errors.js';
import { sendsWithoutContent, templatesOf, type PutFlow } from './flow-schema.js';
import { responseSchemas } from './views.js';

const stepsJson = z.array(z.record(z.string(), z.unknown())).describe('The steps (docs/flows.md)');
export const flowSummaryResponse = z
  .object({
    key: z.string(),
    name: z.string().nullable(),
    currentVersion: z.int().min(1),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .register(responseSchemas, { id: 'FlowSummary' });
export const flowResponse = flowSummaryResponse
  .extend({
    steps: stepsJson,
    /** True when this PUT stored a new version; false when the steps were the current ones already. */
    created: z.boolean().optional(),
    versions: z.array(z.object({ version: z.int().min(1), steps: stepsJson, createdAt: z.iso.datetime() })),
  })
  .register(responseSchemas, { id: 'Flow' });
export const flowListResponse = z
  .object({ items: z.array(flowSummaryResponse) })
  .register(responseSchemas, { id: 'FlowList' });

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );

/**
 * Stores the steps as a new version. Steps equal to the current version's add none (a repeated PUT is
 * idempotent); a new `name` is kept either way. Unknown templates are 422, each with its path.
 */
export async function putFlow(
  db: Db,
  key: string,
  input: PutFlow,
): Promise<{ created: boolean; flow: z.infer<typeof flowResponse> }> {
  const placed = templatesOf(input.steps);
  const keys = [...new Set(placed.map(({ step }) => (step as { template: string }).template))];
  const known = new Set(
    (await db.template.findMany({ where: { key: { in: keys } }, select: { key: true } })).map((t) => t.key),
  );
  const unknown = placed.filter(({ step }) => !known.has((step as { template: string }).template));
  if (unknown.length > 0)
    throw new InvalidInputError(
      'validation',
      'Invalid flow',
      'The flow names templates that do not exist',
      unknown.map(({ path }) => ({ field: path.join('.'), message: 'no such template' })),
    );
  const current = await findFlow(db, key);
  let created = false;
  if (current && canonical(current.steps) === canonical(input.steps)) {
    if (input.name !== undefined && input.name !== current.name) await renameFlow(db, key, input.name);
  } else {
    await addFlowVersion(db, key, input.name ?? null, input.steps);
    created = true;
  }
  return { created, flow: { ...(await getFlow(db, key)), created } };
}

export async function getFlow(db: Db, key: string): Promise<z.infer<typeof flowResponse>> {
  const flow = await findFlow(db, key);
  if (!flow) throw new NotFoundError(`Flow ${key}`);
  const versions = await listFlowVersions(db, key);
  return {
    key: flow.key,
    name: flow.name,
    currentVersion: flow.currentVersion,
    createdAt: flow.createdAt.toISOString(),
    updatedAt: flow.updatedAt.toISOString(),
    steps: flow.steps as unknown as Record<string, unknown>[],
    versions: versions.map((v) => ({
      version: v.version,
      steps: v.steps as unknown as Record<string, unknown>[],
      createdAt: v.createdAt.toISOString(),
    })),
  };
}

export async function listFlowSummaries(db: Db): Promise<z.infer<typeof flowListResponse>> {
  const flows = await listFlows(db);
  return {
    items: flows.map((f) => ({
      key: f.key,
      name: f.name,
      currentVersion: f.currentVersion,
      createdAt: f.createdAt.toISOString(),
      updatedAt: f.updatedAt.toISOString(),
    })),
  };
}

export async function deleteFlow(db: Db, key: string): Promise<void> {
  if (!(await markFlowDeleted(db, key))) throw new NotFoundError(`Flow ${key}`);
}

/**
 * The version a new notification pins: the flow's current one. A notification without content of its
 * own needs every send step before a digest to bring some.
 */
export async function pinFlow(
  db: Db,
  key: string,
  hasContent: boolean,
): Promise<{ version: number; steps: Step[] }> {
  const flow = await findFlow(db, key);
  if (!flow)
    throw new InvalidInputError('unknown-flow', 'Unknown flow', `No flow has the key ${key}`, [
      { field: 'flow', message: 'no such flow' },
    ]);
  if (!hasContent && sendsWithoutContent(flow.steps))
    throw new InvalidInputError(
      'validation',
      'Content required',
      `Flow ${key} has send steps without content of their own`,
      [{ field: 'title', message: `is required: flow ${key} has send steps without content` }],
    );
  return { version: flow.currentVersion, steps: flow.steps };
}
