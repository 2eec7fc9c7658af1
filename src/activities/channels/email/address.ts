import { z } from 'zod';
import type { ContactDefinition } from '../channel.js';

/** An email address, as RFC 5321 bounds it; shown on the preference page as `a•••@example.com`. */
export const emailAddress: ContactDefinition = {
  schema: z.email().max(320),
  userField: 'email',
  hint: (email) => email.replace(/^(.)[^@]*(@.*)$/, '$1•••$2'),
  missing: 'no email address on file',
};
