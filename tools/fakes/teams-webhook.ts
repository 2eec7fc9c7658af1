// A Teams Workflows webhook trigger ("Post to a channel when a webhook request is received") over
// HTTPS: the `sig` in the URL's query is the credential, checked as Logic Apps does (401 without the
// right one, 404 for an unknown workflow); a message with an Adaptive Card attachment gets 202.
import { randomBytes, randomUUID } from 'node:crypto';
import type http from 'node:http';
import { startHttpsFakeServer, type Reply } from './https-server.js';
import { createWaiters } from './waiters.js';

export interface TeamsCard {
  workflowId: string;
  /** The Adaptive Card (the attachment's `content`). */
  card: Record<string, unknown>;
  /** The whole posted message. */
  params: Record<string, unknown>;
  runId: string;
  at: number;
}

export interface TeamsRequest {
  workflowId?: string;
  body: string;
  status: number;
  at: number;
}

export interface TeamsAnswer {
  status: number;
  /** Retry-After in seconds. */
  retryAfter?: number;
}

export interface TeamsFake {
  origin: string;
  ca: string;
  /** A new workflow's trigger URL, signed as Teams' are; its id is 32 hex digits, random unless given. */
  createWebhook(id?: string): string;
  /** The workflow is deleted: its URL gets 404. */
  deleteWebhook(url: string): void;
  cards: TeamsCard[];
  requests: TeamsRequest[];
  failNext(times: number, answer: TeamsAnswer): void;
  waitFor(predicate: (card: TeamsCard) => boolean, timeoutMs?: number): Promise<TeamsCard>;
  reset(): void;
  stop(): Promise<void>;
}

const TRIGGER_PATH = /^\/workflows\/([0-9a-f]{32})\/triggers\/manual\/paths\/invoke$/;
const ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive';
/** Teams refuses a message over 28 KB. */
const MAX_BYTES = 28 * 1024;
const error = (status: number, code: string, message: string): Reply => ({
  status,
  body: { error: { code, message } },
});

export async function startTeamsFake(): Promise<TeamsFake> {
  const workflows = new Map<string, string>(); // id → sig
  const cards: TeamsCard[] = [];
  const requests: TeamsRequest[] = [];
  const failures: TeamsAnswer[] = [];
  const arrivals = createWaiters(cards, 'card reached the Teams fake');

  function answer(req: http.IncomingMessage, body: string, at: number, workflowId?: string): Reply {
    const failure = failures.shift();
    if (failure) {
      return {
        ...error(failure.status, 'SimulatedFailure', 'simulated failure'),
        headers: failure.retryAfter === undefined ? {} : { 'retry-after': String(failure.retryAfter) },
      };
    }
    const url = new URL(req.url ?? '/', 'https://teams');
    if (!workflowId || req.method !== 'POST') return error(404, 'NotFound', 'no such route');
    if (!workflows.has(workflowId)) return error(404, 'WorkflowNotFound', 'The workflow was not found.');
    if (url.searchParams.get('sig') !== workflows.get(workflowId))
      return error(401, 'DirectApiInvalidAuthorizationSignature', 'The provided signature is invalid.');
    if (Buffer.byteLength(body) > MAX_BYTES) return error(413, 'MessageSizeExceeded', 'Message too large.');
    let params: { type?: unknown; attachments?: unknown };
    try {
      params = JSON.parse(body) as typeof params;
    } catch {
      return error(400, 'InvalidRequestContent', 'The request content is not valid JSON.');
    }
    const attachment = Array.isArray(params?.attachments)
      ? (params.attachments[0] as { contentType?: unknown; content?: Record<string, unknown> } | undefined)
      : undefined;
    if (
      params?.type !== 'message' ||
      attachment?.contentType !== ADAPTIVE_CARD ||
      attachment.content?.type !== 'AdaptiveCard'
    )
      return error(400, 'InvalidRequestContent', 'Expected a message with an Adaptive Card attachment.');
    const runId = randomUUID().replaceAll('-', '');
    cards.push({
      workflowId,
      card: attachment.content,
      params: params as Record<string, unknown>,
      runId,
      at,
    });
    arrivals.notify();
    return { status: 202, headers: { 'x-ms-workflow-run-id': runId } };
  }

  const server = await startHttpsFakeServer((req, body, at) => {
    const workflowId = TRIGGER_PATH.exec(new URL(req.url ?? '/', 'https://teams').pathname)?.[1];
    const reply = answer(req, body, at, workflowId);
    requests.push({ workflowId, body, status: reply.status, at });
    return reply;
  });

  return {
    origin: server.origin,
    ca: server.ca,
    createWebhook(id = randomBytes(16).toString('hex')) {
      if (!/^[0-9a-f]{32}$/.test(id)) throw new Error(`a Teams workflow id is 32 hex digits: ${id}`);
      const sig = randomBytes(32).toString('base64url');
      workflows.set(id, sig);
      const query = `api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${sig}`;
      return `${server.origin}/workflows/${id}/triggers/manual/paths/invoke?${query}`;
    },
    deleteWebhook(url) {
      const id = TRIGGER_PATH.exec(new URL(url).pathname)?.[1];
      if (id) workflows.delete(id);
    },
    cards,
    requests,
    failNext(times, failure) {
      for (let i = 0; i < times; i++) failures.push(failure);
    },
    waitFor: arrivals.waitFor,
    reset() {
      cards.length = 0;
      requests.length = 0;
      failures.length = 0;
    },
    stop: server.stop,
  };
}
