// FCM_SERVICE_ACCOUNT and APNS_KEY hold either a file's contents or its path: read once, when the
// worker creates the channel, so a missing file stops the worker at start-up and names the variable.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../../platform/config/define.js';

/** The value itself when `isContents` says it is the credential, else the file it names. */
export function readCredential(
  variable: string,
  value: string,
  isContents: (text: string) => boolean,
): string {
  if (isContents(value)) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (error) {
    // Only the error's code: the value may be a secret pasted in the wrong shape.
    const code = (error as { code?: unknown }).code;
    throw refuse(variable, `is neither the credential nor a readable file (${String(code ?? 'unreadable')})`);
  }
}

export const refuse = (variable: string, message: string) => new ConfigError([{ variable, message }]);
