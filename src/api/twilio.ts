// Twilio's status callbacks: Twilio POSTs a form for each step of every message Herald sent through it.
// No API key: the X-Twilio-Signature header, an HMAC keyed by the auth token over PUBLIC_URL's form of
// the URL and the form itself, is the credential. Neither the signature nor the form is logged.
import express, { type RequestHandler } from 'express';
import { BODY_LIMIT } from './credentials.js';
import type { Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import type { Db } from '../store/db.js';
import { recordDeliveryReceipt } from '../domain/delivery-receipts.js';
import {
  isSignedByTwilio,
  receiptOf,
  TWILIO_SIGNATURE_HEADER,
  TWILIO_STATUS_PATH,
} from '../activities/channels/sms/twilio/status-callback.js';
import { HttpProblem } from './problem.js';
import { ANY_HEADERS, unauthenticatedProblem, type Json } from './openapi-parts.js';

export { TWILIO_SIGNATURE_HEADER, TWILIO_STATUS_PATH };

export interface TwilioStatusOptions {
  authToken: string;
  /** PUBLIC_URL: Twilio signs the URL it was given, which Herald built from it. */
  publicUrl: string;
}

/** On when the API has TWILIO_AUTH_TOKEN, the key Twilio signs with. */
export function twilioStatusOptions(config: Config): TwilioStatusOptions | undefined {
  const { authToken } = config.sms.twilio;
  return authToken ? { authToken, publicUrl: config.publicUrl } : undefined;
}

/**
 * POST /providers/twilio/status. A valid signature or 403, with nothing changed. A signed receipt for a
 * message Herald does not know, or a step that settles nothing (queued, sent), is acknowledged all the
 * same: Twilio would otherwise report the callback as failing.
 */
export function twilioStatusCallback(
  db: Db,
  logger: Logger,
  { authToken, publicUrl }: TwilioStatusOptions,
): RequestHandler[] {
  const accept: RequestHandler = async (req, res) => {
    // The pairs exactly as sent, which is what Twilio signs. Another content type is not read: an empty
    // form, which no signature Twilio makes will match.
    const params = new URLSearchParams(typeof req.body === 'string' ? req.body : '');
    if (
      !isSignedByTwilio(authToken, publicUrl + req.originalUrl, params, req.header(TWILIO_SIGNATURE_HEADER))
    )
      throw new HttpProblem(
        403,
        'forbidden',
        'Forbidden',
        `${TWILIO_SIGNATURE_HEADER} is missing or does not match this request (is PUBLIC_URL the URL Twilio calls?)`,
      );
    const receipt = receiptOf(params);
    if (receipt) {
      const outcome = await recordDeliveryReceipt(db, 'sms', receipt);
      logger.info(
        { requestId: req.id, providerMessageId: receipt.providerMessageId, status: receipt.status, outcome },
        'Twilio delivery receipt',
      );
    }
    res.status(204).end();
  };
  // Twilio sends a small form; the limit is every route's.
  return [express.text({ type: 'application/x-www-form-urlencoded', limit: BODY_LIMIT }), accept];
}

/** The route in the OpenAPI document. */
export function twilioOpenApiPaths(): Record<string, Json> {
  return {
    [TWILIO_STATUS_PATH]: {
      post: {
        operationId: 'twilioStatusCallback',
        summary:
          "Twilio's status callback for an SMS Herald sent: `delivered` and `undelivered`/`failed` settle the delivery (on with TWILIO_AUTH_TOKEN)",
        security: [],
        parameters: [
          {
            name: TWILIO_SIGNATURE_HEADER,
            in: 'header',
            required: true,
            description:
              'Base64 HMAC-SHA1, keyed by TWILIO_AUTH_TOKEN, of PUBLIC_URL + this path followed by each form parameter’s name and value, sorted by name',
            schema: { type: 'string' },
          },
        ],
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': {
              schema: {
                type: 'object',
                required: ['MessageSid', 'MessageStatus'],
                properties: {
                  MessageSid: {
                    type: 'string',
                    description: 'The message, as Twilio named it when it accepted it',
                  },
                  MessageStatus: {
                    type: 'string',
                    description: 'queued, sending, sent, delivered, undelivered, failed, read, ...',
                  },
                  ErrorCode: { type: 'string', description: 'Why an undelivered or failed message failed' },
                  AccountSid: { type: 'string' },
                },
                additionalProperties: { type: 'string' },
              },
            },
          },
        },
        responses: {
          '204': {
            description:
              'Recorded; or nothing to record (a step before delivery, a repeat, a message Herald does not know)',
            headers: ANY_HEADERS,
          },
          '403': unauthenticatedProblem(
            `${TWILIO_SIGNATURE_HEADER} is missing or wrong; nothing was changed`,
          ),
          '404': unauthenticatedProblem('Twilio callbacks are off (no TWILIO_AUTH_TOKEN)'),
          '413': unauthenticatedProblem('The body exceeds 256 KB'),
          '415': unauthenticatedProblem('The form is in a charset Herald cannot read'),
        },
      },
    },
  };
}
