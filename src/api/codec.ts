// The codec server: Temporal's remote codec protocol (POST /encode and /decode, payloads in proto-JSON
// form) on the API under /codec, so the Temporal UI and CLI can show operators the payloads Herald
// encrypts. It lives in the API because the API already holds the keys: its client seals workflow input.
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { bearerToken, requireJson, secretMatcher } from './credentials.js';
import { cors, preflight } from './cors.js';
import { z } from 'zod';
import type { Payload } from '@temporalio/common';
import { CodecError, EncryptionCodec } from '../platform/codec.js';
import type { Config } from '../platform/config.js';
import { ANY_HEADERS, header, json, unauthenticated, type Json } from './openapi-parts.js';
import { HttpProblem } from './problem.js';
import { responseSchemas } from '../domain/views.js';
import { parse } from './validate.js';

export const CODEC_PATH = '/codec';
/** Payloads can be large (Temporal accepts up to 2 MB each), and the UI sends an event's payloads at once. */
const BODY_LIMIT = '4mb';

export interface CodecServerOptions {
  codec: EncryptionCodec;
  authToken: string;
  corsOrigins: readonly string[];
  /** Herald's namespace: payloads of another (X-Namespace) pass through, Herald's keys are not theirs. */
  namespace: string;
}

/** The codec server's settings, or undefined when it is off (no CODEC_KEYS or no CODEC_AUTH_TOKEN). */
export function codecServerOptions(
  config: Pick<Config, 'codec' | 'temporal'>,
): CodecServerOptions | undefined {
  const { keys, activeKeyId, authToken, corsOrigins } = config.codec;
  if (keys.length === 0 || !authToken) return undefined;
  return {
    codec: new EncryptionCodec(keys, activeKeyId),
    authToken,
    corsOrigins,
    namespace: config.temporal.namespace,
  };
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, { message: 'must be base64' });
/** A batch of payloads in proto-JSON form (bytes as base64), the body and answer of /encode and /decode. */
export const codecPayloadsSchema = z
  .object({
    payloads: z.array(z.object({ metadata: z.record(z.string(), base64).nullish(), data: base64.nullish() })),
  })
  .register(responseSchemas, { id: 'CodecPayloads' });
type JsonPayload = z.infer<typeof codecPayloadsSchema>['payloads'][number];

/** A payload from its proto-JSON form (as the UI sends it), and back. */
export const payloadFromJson = ({ metadata, data }: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(data ?? '', 'base64'),
});
export const payloadToJson = ({
  metadata,
  data,
}: Payload): { metadata: Record<string, string>; data: string } => ({
  metadata: Object.fromEntries(
    Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(data ?? []).toString('base64'),
});

/**
 * `Authorization: Bearer <CODEC_AUTH_TOKEN>` (the CLI's --codec-auth), or the token as the path segment
 * before /decode: the Temporal UI sends no header of its own (it forwards only an OIDC access token, and
 * only to HTTPS), so `--ui-codec-endpoint http://host/codec/<token>` is how the UI authenticates.
 */
function requireToken(token: string): RequestHandler {
  const matches = secretMatcher(token);
  return (req, _res, next) => {
    const inPath = req.params.token;
    const given = typeof inPath === 'string' ? inPath : bearerToken(req);
    if (given === undefined || !matches(given))
      throw new HttpProblem(
        401,
        'unauthorized',
        'Unauthorized',
        'Send CODEC_AUTH_TOKEN as `Authorization: Bearer <token>`, or call /codec/<token>/decode',
        undefined,
        { 'WWW-Authenticate': 'Bearer' },
      );
    next();
  };
}

const tooLarge: ErrorRequestHandler = (error: { type?: string }, _req, _res, next) => {
  if (error.type === 'entity.too.large')
    throw new HttpProblem(413, 'payload-too-large', 'Payload too large', `The body exceeds ${BODY_LIMIT}`);
  next(error);
};

export function codecRoutes(options: CodecServerOptions): express.Router {
  const { codec, namespace } = options;
  const router = express.Router();
  // The UI sends Content-Type and X-Namespace, so every call is preflighted; its "Include cross-origin
  // credentials" setting makes them credentialed.
  router.use(
    cors({
      origins: options.corsOrigins,
      methods: ['POST'],
      headers: ['Authorization', 'Content-Type', 'X-Namespace'],
      credentials: true,
    }),
  );
  // The token first: nobody without it gets a 4 MB body parsed.
  const checks = [
    requireToken(options.authToken),
    requireJson,
    express.json({ limit: BODY_LIMIT, strict: true }),
  ];

  for (const operation of ['encode', 'decode'] as const) {
    const convert: RequestHandler = async (req, res) => {
      const { payloads } = parse(codecPayloadsSchema, req.body);
      // Herald's keys are for Herald's namespace: another's payloads (the UI browsing it) pass through.
      const asked = req.header('x-namespace');
      if (asked !== undefined && asked !== namespace) {
        res.json({ payloads });
        return;
      }
      try {
        res.json({ payloads: (await codec[operation](payloads.map(payloadFromJson))).map(payloadToJson) });
      } catch (error) {
        if (!(error instanceof CodecError)) throw error;
        throw new HttpProblem(422, 'undecodable-payload', 'A payload cannot be decoded', error.message);
      }
    };
    // Routes, not a path-less middleware: the logs and metrics then show `/:token/decode`, never the token.
    for (const path of [`/${operation}`, `/:token/${operation}`]) {
      router.options(path, preflight);
      router.post(path, ...checks, convert);
    }
  }
  router.use(tooLarge);
  return router;
}

const codecProblem = (description: string, headers: Record<string, unknown> = ANY_HEADERS) => ({
  description,
  headers,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

/** The codec routes in the OpenAPI document: the header form and the token-in-path form the UI uses. */
export function codecOpenApiPaths(): Record<string, Json> {
  const paths: Record<string, Json> = {};
  for (const operation of ['encode', 'decode'] as const) {
    for (const inPath of [false, true]) {
      const name = operation[0]!.toUpperCase() + operation.slice(1);
      paths[`${CODEC_PATH}${inPath ? '/{token}' : ''}/${operation}`] = {
        post: {
          operationId: `codec${name}${inPath ? 'WithPathToken' : ''}`,
          summary:
            `Temporal remote codec: ${operation} payloads with Herald's keys (off without CODEC_KEYS and ` +
            `CODEC_AUTH_TOKEN)${inPath ? '; the Temporal UI form, the token in the path' : ''}`,
          security: inPath ? [] : [{ codecToken: [] }],
          parameters: [
            ...(inPath
              ? [
                  {
                    name: 'token',
                    in: 'path',
                    required: true,
                    description: 'CODEC_AUTH_TOKEN',
                    schema: { type: 'string' },
                  },
                ]
              : []),
            {
              name: 'X-Namespace',
              in: 'header',
              required: false,
              description: "The payloads' namespace; another than Herald's passes through unchanged",
              schema: { type: 'string' },
            },
          ],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: json(codecPayloadsSchema) } },
          },
          responses: {
            '200': unauthenticated(`The payloads, ${operation}d, in the same order`, codecPayloadsSchema),
            '400': codecProblem('The body is not JSON'),
            '401': codecProblem('No valid codec token', {
              ...ANY_HEADERS,
              'WWW-Authenticate': header('WwwAuthenticate'),
            }),
            '404': codecProblem('The codec server is off (no CODEC_KEYS or CODEC_AUTH_TOKEN)'),
            '413': codecProblem(`The body exceeds ${BODY_LIMIT}`),
            '415': codecProblem('The body is not application/json'),
            '422': codecProblem(
              'Not payloads, or a payload that cannot be decoded (unknown key id, altered)',
            ),
          },
        },
      };
    }
  }
  return paths;
}
