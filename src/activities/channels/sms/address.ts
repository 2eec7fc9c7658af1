import { z } from 'zod';
import type { ContactDefinition } from '../channel.js';

/** E.164: a plus and 7 to 15 digits (Niue has 7), no leading zero. */
export const E164 = /^\+[1-9][0-9]{6,14}$/;

/** A phone number in E.164; shown on the preference page by its last four digits. */
export const phoneNumber: ContactDefinition = {
  // Spelled [0-9], not \d: the pattern goes into the OpenAPI document, where \d may match any digit.
  schema: z.string().regex(E164, { message: 'must be an E.164 number such as +14155550123' }),
  userField: 'phone',
  hint: (phone) => `•••${phone.slice(-4)}`,
  missing: 'no phone number on file',
};
