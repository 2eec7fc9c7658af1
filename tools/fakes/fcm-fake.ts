// Firebase Cloud Messaging over real HTTPS for tests, the benchmark and the chaos suite: Google's OAuth2
// token endpoint for a service account made here (it verifies the JWT-bearer assertion against the
// account's public key, and its claims) and FCM HTTP v1's messages:send (it checks the access token and
// answers `{name}`, or errors in FCM's documented JSON with details[].errorCode), with scripted failures.
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { jwtVerify } from 'jose';
import { selfSignedCertificate } from './tls.js';
import { createWaiters } from './waiters.js';

const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** A service account key file, as Google's console downloads it (FCM_SERVICE_ACCOUNT). */
export interface ServiceAccountJson {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  token_uri: string;
}

/** One POST to the token endpoint, whatever the answer. */
export interface TokenRequest {
  at: number;
  status: number;
  /** The OAuth error answered (`invalid_grant`, ...), when refused. */
  error?: string;
  /** The assertion's verified claims, when it verified. */
  claims?: Record<string, unknown>;
}

/** What Herald sends as `message` (only the parts the tests read are typed). */
export interface FcmMessage {
  token: string;
  notification?: { title?: string; body?: string };
  data?: Record<string, string>;
  android?: { ttl?: string; collapse_key?: string; notification?: { tag?: string } };
}

/** One POST to messages:send, whatever the answer. */
export interface FcmRequest {
  at: number;
  status: number;
  /** The access token it carried. */
  accessToken?: string;
  message?: FcmMessage;
  /** FCM's errorCode answered, when it failed. */
  errorCode?: string;
}

export interface FcmFailure {
  status: number;
  /** details[].errorCode: by default the one FCM uses for the status (UNAVAILABLE for 503, ...). */
  errorCode?: string;
  message?: string;
  /** The Retry-After header: seconds or an HTTP date. */
  retryAfter?: number | string;
  /** Adds the BadRequest field violation on `message.token` that FCM sends with an invalid token. */
  badToken?: boolean;
}

export interface FcmFake {
  /** FCM_API_URL. */
  url: string;
  /** The self-signed certificate (PEM) to trust as a CA. */
  ca: string;
  serviceAccount: ServiceAccountJson;
  tokenRequests: TokenRequest[];
  requests: FcmRequest[];
  /** Answer the next `times` sends (after the access token is checked) with this failure. */
  failNext(times: number, failure: FcmFailure): void;
  /** Answer the next `times` token requests with this OAuth error instead of a token. */
  failTokenNext(times: number, failure: { status: number; error: string; retryAfter?: number }): void;
  /** Hold the answer to the next `times` sends for `ms` (a slow FCM, to exercise timeouts). */
  delayNext(times: number, ms: number): void;
  /** The app left the device: every later send to this token is 404 UNREGISTERED. */
  unregister(token: string): void;
  /** Access tokens already issued stop working (401), as when Google revokes them. */
  revokeAccessTokens(): void;
  waitFor(predicate: (request: FcmRequest) => boolean, timeoutMs?: number): Promise<FcmRequest>;
  stop(): Promise<void>;
}

const GRPC_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};
const ERROR_CODE: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  403: 'SENDER_ID_MISMATCH',
  404: 'UNREGISTERED',
  429: 'QUOTA_EXCEEDED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** FCM's error body: google.rpc.Status with an FcmError detail (and a BadRequest one for a bad token). */
function fcmError(failure: FcmFailure) {
  const errorCode = failure.errorCode ?? ERROR_CODE[failure.status];
  return {
    error: {
      code: failure.status,
      message:
        failure.message ??
        (failure.badToken
          ? 'The registration token is not a valid FCM registration token'
          : 'Simulated failure'),
      status: GRPC_STATUS[failure.status] ?? 'UNKNOWN',
      details: [
        ...(errorCode ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] : []),
        ...(failure.badToken
          ? [
              {
                '@type': 'type.googleapis.com/google.rpc.BadRequest',
                fieldViolations: [{ field: 'message.token', description: 'Invalid registration token' }],
              },
            ]
          : []),
      ],
    },
  };
}

export async function startFcmFake(
  options: { projectId?: string; expiresIn?: number } = {},
): Promise<FcmFake> {
  const { key, cert } = await selfSignedCertificate();
  const projectId = options.projectId ?? 'herald-test';
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const tokenRequests: TokenRequest[] = [];
  const requests: FcmRequest[] = [];
  const arrivals = createWaiters(requests, 'request reached the FCM fake');
  const failures: FcmFailure[] = [];
  const delays: number[] = [];
  const tokenFailures: { status: number; error: string; retryAfter?: number }[] = [];
  const unregistered = new Set<string>();
  /** Access token → when it expires (ms). */
  const accessTokens = new Map<string, number>();
  let sent = 0;

  const server = https.createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const answer = (status: number, json: unknown, headers: Record<string, string> = {}) =>
        res
          .writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers })
          .end(JSON.stringify(json));
      const path = new URL(req.url ?? '/', 'https://fcm').pathname;
      if (req.method === 'POST' && path === '/token') void token(body, answer);
      else if (req.method === 'POST' && path === `/v1/projects/${projectId}/messages:send`)
        setTimeout(() => send(req, body, answer), delays.shift() ?? 0);
      else answer(404, fcmError({ status: 404, errorCode: '', message: 'Requested entity was not found.' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const serviceAccount: ServiceAccountJson = {
    type: 'service_account',
    project_id: projectId,
    private_key_id: randomBytes(20).toString('hex'),
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    client_email: `herald@${projectId}.iam.gserviceaccount.com`,
    client_id: String(100000000000000000000n + BigInt(Date.now())),
    token_uri: `${origin}/token`,
  };

  type Answer = (status: number, json: unknown, headers?: Record<string, string>) => void;

  async function token(body: string, answer: Answer) {
    const at = Date.now();
    const refuse = (status: number, error: string, description: string, headers?: Record<string, string>) => {
      tokenRequests.push({ at, status, error });
      answer(status, { error, error_description: description }, headers);
    };
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== JWT_BEARER)
      return refuse(400, 'unsupported_grant_type', 'Invalid grant_type');
    let claims: Record<string, unknown>;
    try {
      claims = await verifyAssertion(form.get('assertion') ?? '', publicKey, serviceAccount);
    } catch (error) {
      return refuse(400, 'invalid_grant', (error as Error).message);
    }
    const failure = tokenFailures.shift();
    if (failure)
      return refuse(
        failure.status,
        failure.error,
        'Simulated failure',
        failure.retryAfter === undefined ? {} : { 'retry-after': String(failure.retryAfter) },
      );
    const expiresIn = options.expiresIn ?? 3599;
    const accessToken = `ya29.fake-${randomBytes(24).toString('base64url')}`;
    accessTokens.set(accessToken, at + expiresIn * 1000);
    tokenRequests.push({ at, status: 200, claims });
    answer(200, { access_token: accessToken, expires_in: expiresIn, token_type: 'Bearer' });
  }

  function send(req: IncomingMessage, body: string, answer: Answer) {
    const at = Date.now();
    const accessToken = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    let message: FcmMessage | undefined;
    try {
      message = (JSON.parse(body) as { message?: FcmMessage }).message;
    } catch {
      // Answered below as a request without a message.
    }
    const fail = (failure: FcmFailure) => {
      const errorCode = failure.errorCode ?? ERROR_CODE[failure.status];
      requests.push({ at, status: failure.status, accessToken, message, errorCode });
      answer(
        failure.status,
        fcmError(failure),
        failure.retryAfter === undefined ? {} : { 'retry-after': String(failure.retryAfter) },
      );
      arrivals.notify();
    };
    const expires = accessToken === undefined ? undefined : accessTokens.get(accessToken);
    if (expires === undefined || expires <= at)
      return fail({ status: 401, errorCode: '', message: 'Request had invalid authentication credentials.' });
    const failure = failures.shift();
    if (failure) return fail(failure);
    if (!message || typeof message.token !== 'string')
      return fail({ status: 400, message: 'Recipient of the message is not set.' });
    if (!/^[A-Za-z0-9_:-]+$/.test(message.token)) return fail({ status: 400, badToken: true });
    if (unregistered.has(message.token))
      return fail({ status: 404, message: 'Requested entity was not found.' });
    requests.push({ at, status: 200, accessToken, message });
    answer(200, { name: `projects/${projectId}/messages/${++sent}` });
    arrivals.notify();
  }

  return {
    url: origin,
    ca: cert,
    serviceAccount,
    tokenRequests,
    requests,
    failNext(times, failure) {
      for (let i = 0; i < times; i++) failures.push(failure);
    },
    delayNext(times, ms) {
      for (let i = 0; i < times; i++) delays.push(ms);
    },
    failTokenNext(times, failure) {
      for (let i = 0; i < times; i++) tokenFailures.push(failure);
    },
    unregister: (token) => void unregistered.add(token),
    revokeAccessTokens: () => accessTokens.clear(),
    waitFor: arrivals.waitFor,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * What Google checks of a JWT-bearer assertion: signed (RS256) by the account's key, issued by its
 * client_email for its token_uri, asking for FCM's scope, issued now and valid at most an hour.
 */
async function verifyAssertion(assertion: string, publicKey: KeyObject, account: ServiceAccountJson) {
  const { payload, protectedHeader } = await jwtVerify(assertion, publicKey, {
    algorithms: ['RS256'],
    issuer: account.client_email,
    audience: account.token_uri,
    requiredClaims: ['iat', 'exp'],
    maxTokenAge: '1h',
    clockTolerance: 60,
  });
  if (protectedHeader.kid !== undefined && protectedHeader.kid !== account.private_key_id)
    throw new Error('Invalid JWT: the kid is not this account key');
  if (payload.exp! - payload.iat! > 3600)
    throw new Error('Invalid JWT: Token must be a short-lived token (60 minutes)');
  if (
    !String(payload.scope ?? '')
      .split(' ')
      .includes(FCM_SCOPE)
  )
    throw new Error('Invalid OAuth scope');
  return payload as Record<string, unknown>;
}
