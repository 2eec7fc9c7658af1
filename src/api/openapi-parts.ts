// The building blocks of the OpenAPI document (openapi.ts): JSON Schema from the zod schemas, the
// headers and problem+json answers every route shares, and the shape of an operation under /v1.
import { z } from 'zod';
import { problemResponse, responseSchemas } from '../domain/views.js';

export type Json = Record<string, unknown>;

/** A request schema as JSON Schema; `$schema` is left out, the document already says 3.1. */
export function json(schema: z.ZodType): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return rest;
}

const ref = (schema: z.ZodType) => ({ $ref: `#/components/schemas/${responseSchemas.get(schema)!.id}` });

export const HEADERS = {
  RequestId: {
    description: 'X-Request-Id as sent when it is sane, else a new id; the logs carry it',
    required: true,
    schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
  },
  RateLimit: {
    description: 'Requests left and seconds until full; sent when the deployment sets API_RATE_LIMIT',
    schema: { type: 'string' },
  },
  RateLimitPolicy: {
    description:
      'Burst (q) and seconds to refill (w) per API key; sent when the deployment sets API_RATE_LIMIT',
    schema: { type: 'string' },
  },
  RetryAfter: {
    description: 'Seconds to wait before retrying',
    required: true,
    schema: { type: 'string', pattern: '^[0-9]+$' },
  },
  WwwAuthenticate: { description: 'How to authenticate', required: true, schema: { const: 'Bearer' } },
  Location: { description: 'Where the new resource is', required: true, schema: { type: 'string' } },
};
export const header = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` });

/** Every response carries its request id; /v1 responses past the key check carry the rate limit too. */
export const ANY_HEADERS = { 'X-Request-Id': header('RequestId') };
const V1_HEADERS = {
  ...ANY_HEADERS,
  RateLimit: header('RateLimit'),
  'RateLimit-Policy': header('RateLimitPolicy'),
};

/** A /v1 answer with a JSON body; `links` say which operations can use what it returns. */
export const jsonResponse = (
  description: string,
  schema: z.ZodType,
  { headers = {}, links }: { headers?: Json; links?: Json } = {},
) => ({
  description,
  headers: { ...V1_HEADERS, ...headers },
  content: { 'application/json': { schema: ref(schema) } },
  ...(links ? { links } : {}),
});
export const noContent = (description: string) => ({ description, headers: V1_HEADERS });
/** An answer outside /v1: no API key, no rate limit. */
export const unauthenticated = (description: string, schema: z.ZodType) => ({
  description,
  headers: ANY_HEADERS,
  content: { 'application/json': { schema: ref(schema) } },
});

/** A problem+json answer outside /v1: no API key, no rate limit. */
export const unauthenticatedProblem = (description: string, headers: Json = ANY_HEADERS) => ({
  description,
  headers,
  content: { 'application/problem+json': { schema: ref(problemResponse) } },
});

/** Response bodies, each named once under components.schemas. */
export function schemaComponents(): Record<string, Json> {
  const { schemas } = z.toJSONSchema(responseSchemas, {
    io: 'output',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  });
  // A component is part of the document: its refs resolve against the document, not an $id of its own.
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $id: _id, $schema: _schema, ...schema }]) => [id, schema]),
  );
}

/** The problem+json answers, named under components.responses. */
const PROBLEMS: Record<number, { name: string; description: string; headers?: Json }> = {
  400: { name: 'MalformedRequest', description: 'The body is not JSON, or not a JSON object or array' },
  // The key is checked before the rate limit: a 401 has no rate-limit headers.
  401: {
    name: 'Unauthorized',
    description: 'No valid API key (`Authorization: Bearer <key>`)',
    headers: { ...ANY_HEADERS, 'WWW-Authenticate': header('WwwAuthenticate') },
  },
  403: {
    name: 'Forbidden',
    description: 'The API key lacks the scope for this request (send, manage or admin); nothing was changed',
  },
  404: { name: 'NotFound', description: 'Not found' },
  409: { name: 'Conflict', description: 'The request conflicts with the state of the resource' },
  413: { name: 'PayloadTooLarge', description: 'The body exceeds 256 KB' },
  415: { name: 'UnsupportedMediaType', description: 'The body is not application/json (UTF-8)' },
  422: { name: 'ValidationError', description: 'The request is invalid; `errors` lists every field' },
  429: {
    name: 'RateLimited',
    description: 'Too many requests for this API key; only when the deployment sets API_RATE_LIMIT',
    headers: { ...V1_HEADERS, 'Retry-After': header('RetryAfter') },
  },
  503: {
    name: 'Unavailable',
    description: 'A service Herald needs (Temporal) is unreachable; retry after Retry-After',
    headers: { ...V1_HEADERS, 'Retry-After': header('RetryAfter') },
  },
};
export function problemComponents(): Record<string, Json> {
  return Object.fromEntries(
    Object.values(PROBLEMS).map(({ name, description, headers = V1_HEADERS }) => [
      name,
      { description, headers, content: { 'application/problem+json': { schema: ref(problemResponse) } } },
    ]),
  );
}

export interface Operation {
  operationId: string;
  summary: string;
  parameters?: Json[];
  /** The JSON body; it brings 400, 413, 415 and 422 with it. */
  body?: z.ZodType;
  bodyOptional?: boolean;
  responses: Record<string, Json>;
  /** Problem statuses beyond 401, 403 and 429, which every /v1 route may answer. */
  errors?: number[];
  /** Any API key may call it, whatever its scopes: no 403. */
  anyScope?: boolean;
}

/** An operation under /v1: API key required, problem+json for every error it can really answer. */
export function v1(op: Operation): Json {
  const { operationId, summary, parameters, body, bodyOptional, errors = [], anyScope = false } = op;
  const responses: Record<string, Json> = { ...op.responses };
  const scoped = anyScope ? [] : [403];
  for (const code of new Set([401, ...scoped, 429, ...(body ? [400, 413, 415, 422] : []), ...errors]))
    responses[code] = { $ref: `#/components/responses/${PROBLEMS[code]!.name}` };
  return {
    operationId,
    summary,
    ...(parameters ? { parameters } : {}),
    ...(body
      ? {
          requestBody: {
            required: !bodyOptional,
            content: { 'application/json': { schema: json(body) } },
          },
        }
      : {}),
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b))),
  };
}

export const pathParam = (name: string, schema: z.ZodType, description?: string) => ({
  name,
  in: 'path',
  required: true,
  schema: json(schema),
  ...(description ? { description } : {}),
});

/** Query parameters from an object schema, one per property. */
export function queryParams(schema: z.ZodType): Json[] {
  const { properties = {} } = json(schema) as { properties?: Record<string, unknown> };
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: false,
    schema: property,
  }));
}

/** A link from a response to an operation that takes what it returns (runtime expressions). */
export const link = (operationId: string, parameters: Json, requestBody?: Json) => ({
  operationId,
  parameters,
  ...(requestBody ? { requestBody } : {}),
});
