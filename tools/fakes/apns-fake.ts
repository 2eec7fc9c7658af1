// Apple Push Notification service over real HTTP/2 with TLS, for tests, the benchmark and the chaos
// suite: it verifies the ES256 provider token against the public key of the .p8 key made here (kid,
// iss = team id, iat at most an hour old), checks the request as Apple documents it, and answers 200
// with apns-id or an error status with `{reason}`; with scripted failures and devices that are gone.
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { selfSignedCertificate } from './tls.js';
import { createWaiters } from './waiters.js';

/** One request to the fake, whatever the answer. */
export interface ApnsRequest {
  at: number;
  status: number;
  /** Apple's reason, when it failed. */
  reason?: string;
  /** The device token from the path. */
  token: string;
  headers: {
    topic?: string;
    pushType?: string;
    expiration?: string;
    collapseId?: string;
    priority?: string;
  };
  /** The provider token (the JWT) it carried. */
  providerToken?: string;
  payload?: unknown;
  /** The apns-id answered, when accepted. */
  apnsId?: string;
}

export interface ApnsFailure {
  status: number;
  reason: string;
  /** A Retry-After header: seconds or an HTTP date. */
  retryAfter?: number | string;
}

export interface ApnsFake {
  /** APNS_API_URL. */
  url: string;
  /** The self-signed certificate (PEM) to trust as a CA. */
  ca: string;
  /** The token-signing key as Apple's .p8 file holds it (APNS_KEY), and its ids. */
  key: string;
  keyId: string;
  teamId: string;
  topic: string;
  requests: ApnsRequest[];
  /** Answer the next `times` requests (after the provider token is verified) with this failure. */
  failNext(times: number, failure: ApnsFailure): void;
  /** Hold the answer to the next `times` requests for `ms` (a slow APNs, to exercise timeouts). */
  delayNext(times: number, ms: number): void;
  /** The app left the device: every later push to this token is 410 Unregistered. */
  unregister(token: string): void;
  waitFor(predicate: (request: ApnsRequest) => boolean, timeoutMs?: number): Promise<ApnsRequest>;
  stop(): Promise<void>;
}

const PUSH_TYPES = [
  'alert',
  'background',
  'location',
  'voip',
  'complication',
  'fileprovider',
  'mdm',
  'liveactivity',
];
/** Apple's limit on a notification's payload. */
const MAX_PAYLOAD_BYTES = 4096;

export async function startApnsFake(
  options: { keyId?: string; teamId?: string; topic?: string } = {},
): Promise<ApnsFake> {
  const { key: tlsKey, cert } = await selfSignedCertificate();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyId = options.keyId ?? 'ABC123DEFG';
  const teamId = options.teamId ?? 'TEAM123456';
  const topic = options.topic ?? 'dev.herald.app';
  const requests: ApnsRequest[] = [];
  const arrivals = createWaiters(requests, 'request reached the APNs fake');
  const failures: ApnsFailure[] = [];
  const delays: number[] = [];
  const unregistered = new Map<string, number>();
  const sessions = new Set<http2.ServerHttp2Session>();

  const server = http2.createSecureServer({ key: tlsKey, cert });
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const delay = delays.shift() ?? 0;
      void judge(headers, Buffer.concat(chunks)).then(async ({ request, extra }) => {
        if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
        requests.push(request);
        // The client gave up while the answer was held (its attempt ran out): nothing to answer.
        if (stream.destroyed) return arrivals.notify();
        const { status, reason, apnsId } = request;
        stream.respond({
          ':status': status,
          'apns-id': apnsId ?? String(headers['apns-id'] ?? randomUUID()),
          ...(reason && { 'content-type': 'application/json' }),
          ...extra,
        });
        stream.end(
          reason
            ? JSON.stringify({
                reason,
                ...(status === 410 && { timestamp: unregistered.get(request.token) }),
              })
            : undefined,
        );
        arrivals.notify();
      });
    });
    stream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  async function judge(headers: http2.IncomingHttpHeaders, body: Buffer) {
    const header = (name: string) =>
      typeof headers[name] === 'string' ? (headers[name] as string) : undefined;
    const path = header(':path') ?? '';
    const token = /^\/3\/device\/([^/?]*)$/.exec(path)?.[1] ?? '';
    const providerToken = /^bearer (\S+)$/i.exec(header('authorization') ?? '')?.[1];
    const request: ApnsRequest = {
      at: Date.now(),
      status: 200,
      token,
      headers: {
        topic: header('apns-topic'),
        pushType: header('apns-push-type'),
        expiration: header('apns-expiration'),
        collapseId: header('apns-collapse-id'),
        priority: header('apns-priority'),
      },
      providerToken,
    };
    const refuse = (status: number, reason: string, extra: Record<string, string> = {}) => ({
      request: { ...request, status, reason },
      extra,
    });
    if (header(':method') !== 'POST') return refuse(405, 'MethodNotAllowed');
    if (!/^\/3\/device\//.test(path)) return refuse(404, 'BadPath');
    if (!providerToken) return refuse(403, 'MissingProviderToken');
    const tokenProblem = await verifyProviderToken(providerToken, publicKey, keyId, teamId);
    if (tokenProblem) return refuse(403, tokenProblem);
    const failure = failures.shift();
    if (failure)
      return refuse(
        failure.status,
        failure.reason,
        failure.retryAfter === undefined ? {} : { 'retry-after': String(failure.retryAfter) },
      );
    if (!token) return refuse(400, 'MissingDeviceToken');
    if (!/^(?:[0-9a-f]{2}){32,100}$/i.test(token)) return refuse(400, 'BadDeviceToken');
    if (!request.headers.topic) return refuse(400, 'MissingTopic');
    if (request.headers.topic !== topic) return refuse(400, 'DeviceTokenNotForTopic');
    if (request.headers.pushType !== undefined && !PUSH_TYPES.includes(request.headers.pushType))
      return refuse(400, 'InvalidPushType');
    if (request.headers.expiration !== undefined && !/^\d+$/.test(request.headers.expiration))
      return refuse(400, 'BadExpirationDate');
    if (request.headers.priority !== undefined && !['1', '5', '10'].includes(request.headers.priority))
      return refuse(400, 'BadPriority');
    if (Buffer.byteLength(request.headers.collapseId ?? '') > 64) return refuse(400, 'BadCollapseId');
    if (body.length === 0) return refuse(400, 'PayloadEmpty');
    if (body.length > MAX_PAYLOAD_BYTES) return refuse(413, 'PayloadTooLarge');
    try {
      request.payload = JSON.parse(body.toString('utf8'));
    } catch {
      return refuse(400, 'BadPayload');
    }
    if (unregistered.has(token.toLowerCase())) return refuse(410, 'Unregistered');
    return { request: { ...request, apnsId: header('apns-id') ?? randomUUID() }, extra: {} };
  }

  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ca: cert,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    keyId,
    teamId,
    topic,
    requests,
    failNext(times, failure) {
      for (let i = 0; i < times; i++) failures.push(failure);
    },
    delayNext(times, ms) {
      for (let i = 0; i < times; i++) delays.push(ms);
    },
    unregister: (token) => void unregistered.set(token.toLowerCase(), Date.now()),
    waitFor: arrivals.waitFor,
    async stop() {
      for (const session of sessions) session.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * What APNs checks of a provider token: an ES256 signature by the key `kid` names, the team as `iss`,
 * and an `iat` at most an hour old (older: ExpiredProviderToken). Undefined when it passes.
 */
async function verifyProviderToken(jwt: string, publicKey: KeyObject, keyId: string, teamId: string) {
  try {
    if (decodeProtectedHeader(jwt).kid !== keyId) return 'InvalidProviderToken';
    const { payload } = await jwtVerify(jwt, publicKey, {
      algorithms: ['ES256'],
      issuer: teamId,
      requiredClaims: ['iat'],
    });
    const age = Date.now() / 1000 - payload.iat!;
    if (age > 3600) return 'ExpiredProviderToken';
    if (age < -60) return 'InvalidProviderToken';
    return undefined;
  } catch {
    return 'InvalidProviderToken';
  }
}
