// Twilio as the SMS channel's provider (SMS_PROVIDER=twilio): chosen in ../index.ts.
import type { Config } from '../../../../platform/config.js';
import type { Logger } from '../../../../platform/logger.js';
import type { ChannelProvider } from '../../channel.js';
import type { SmsProviderChoice } from '../index.js';
import { createTwilioSms } from './provider.js';
import { TWILIO_STATUS_PATH } from './status-callback.js';

export { classifyTwilioError, createTwilioSms, TwilioApiError } from './provider.js';
export { isSignedByTwilio, receiptOf, twilioSignature, TWILIO_STATUS_PATH } from './status-callback.js';

export const twilioProvider: SmsProviderChoice = {
  isConfigured({ sms: { twilio } }: Config): boolean {
    return Boolean(twilio.accountSid && twilio.authToken && (twilio.from || twilio.messagingServiceSid));
  },
  create(config: Config, logger: Logger): ChannelProvider {
    const { accountSid, authToken, from, messagingServiceSid, apiUrl } = config.sms.twilio;
    return createTwilioSms({
      accountSid: accountSid!,
      authToken: authToken!,
      from,
      messagingServiceSid,
      apiUrl,
      // Twilio signs each callback over this URL; the API checks it against PUBLIC_URL the same way.
      statusCallback: `${config.publicUrl}${TWILIO_STATUS_PATH}`,
      maxSegments: config.sms.maxSegments,
      logger,
    });
  },
};
