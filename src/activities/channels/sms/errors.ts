// What every SMS provider's failures share: reasons free of phone numbers, and the request's own failures
// (before any answer) judged alike.
import { systemCode, type FailureClass } from '../channel.js';

/**
 * Providers echo the destination in their errors; reasons and logs must never carry it. The recipient's
 * number (with or without its plus) and anything shaped like an E.164 number are replaced.
 */
export function withoutPhoneNumbers(text: string, phone: string): string {
  return text
    .replaceAll(phone, '[phone]')
    .replaceAll(phone.slice(1), '[phone]')
    .replace(/\+\d{7,15}/g, '[phone]');
}

/** A timeout, a network error, a send cancelled by close() (worker shutting down): another attempt may do. */
export function classifyTransportError(error: unknown, provider: string): FailureClass {
  const e = error as { name?: unknown; message?: unknown } | null;
  if (e?.name === 'TimeoutError') return { permanent: false, reason: `${provider} timed out` };
  // fetch reports network trouble as TypeError("fetch failed") with the socket error as its cause.
  const code = systemCode(error);
  if (code) return { permanent: false, reason: `${provider} unreachable: ${code}` };
  return { permanent: false, reason: typeof e?.message === 'string' ? e.message : String(error) };
}
