// Google's OAuth2 for FCM: the service account signs a JWT-bearer assertion (RS256, RFC 7523) and trades
// it at its token_uri for an access token, reused until shortly before it expires. Written here because
// google-auth-library posts to Google's own token URL whatever the account's token_uri says.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { parseRetryAfter } from '../channel.js';
import { readCredential, refuse } from './credentials.js';
import type { HttpClient } from './http-client.js';
import { createTokenCache, type TokenCache } from './token-cache.js';

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const VARIABLE = 'FCM_SERVICE_ACCOUNT';

export interface ServiceAccount {
  projectId: string;
  clientEmail: string;
  privateKey: KeyObject;
  /** Names the key in the assertion's header, as Google's own libraries do. */
  privateKeyId?: string;
  tokenUri: string;
}

/** FCM_SERVICE_ACCOUNT (the JSON, or a path to it) as an account; a ConfigError names what is wrong. */
export function readServiceAccount(value: string): ServiceAccount {
  const text = readCredential(VARIABLE, value, (v) => v.trimStart().startsWith('{'));
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw refuse(VARIABLE, 'is not JSON: expected a Google service account key file');
  }
  const field = (name: string) => (typeof json[name] === 'string' && json[name] ? json[name] : undefined);
  const projectId = field('project_id');
  const clientEmail = field('client_email');
  const pem = field('private_key');
  if (!projectId || !clientEmail || !pem)
    throw refuse(VARIABLE, 'lacks project_id, client_email or private_key: is it a service account key?');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw refuse(VARIABLE, 'has a private_key that is not a PEM private key');
  }
  if (privateKey.asymmetricKeyType !== 'rsa') throw refuse(VARIABLE, 'has a private_key that is not RSA');
  return {
    projectId,
    clientEmail,
    privateKey,
    privateKeyId: field('private_key_id'),
    tokenUri: field('token_uri') ?? GOOGLE_TOKEN_URI,
  };
}

/** The token endpoint refused or failed; `error` is its OAuth error code, never its description. */
export class TokenEndpointError extends Error {
  override name = 'TokenEndpointError';
  constructor(
    readonly status: number,
    readonly error: string,
    readonly retryAfterMs?: number,
  ) {
    super(`FCM token endpoint ${status}: ${error}`);
  }
}

/** Renewed this long before it expires, so a token never runs out between the check and FCM's. */
const RENEW_MARGIN_S = 300;
const renewAfterMs = (expiresIn: number) =>
  (expiresIn > 2 * RENEW_MARGIN_S ? expiresIn - RENEW_MARGIN_S : expiresIn / 2) * 1000;

/** Access tokens for the account, each reused until RENEW_MARGIN_S before it expires. */
export function createAccessTokens(
  account: ServiceAccount,
  http: HttpClient,
  now: () => number = Date.now,
): TokenCache {
  return createTokenCache(async () => {
    const iat = Math.floor(now() / 1000);
    const assertion = await new SignJWT({ scope: FCM_SCOPE })
      .setProtectedHeader({
        alg: 'RS256',
        typ: 'JWT',
        ...(account.privateKeyId && { kid: account.privateKeyId }),
      })
      .setIssuer(account.clientEmail)
      .setAudience(account.tokenUri)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(account.privateKey);
    const answer = await http.post(
      account.tokenUri,
      { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      new URLSearchParams({ grant_type: JWT_BEARER, assertion }).toString(),
    );
    let body: { access_token?: unknown; expires_in?: unknown; error?: unknown } = {};
    try {
      body = JSON.parse(answer.body) as typeof body;
    } catch {
      // Not JSON (a proxy's error page): judged by the status alone.
    }
    if (answer.status !== 200 || typeof body.access_token !== 'string') {
      const error = typeof body.error === 'string' && /^\w{1,64}$/.test(body.error) ? body.error : 'no token';
      throw new TokenEndpointError(answer.status, error, parseRetryAfter(answer.headers['retry-after']));
    }
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600;
    return { token: body.access_token, renewAt: now() + renewAfterMs(expiresIn) };
  }, now);
}
