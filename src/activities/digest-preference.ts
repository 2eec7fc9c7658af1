import type { Db } from '../store/db.js';
import { digestPreferenceFor, type DigestPreference } from '../domain/digest-preference.js';

export interface DigestPreferenceInput {
  userId: string;
  category: string;
}

/**
 * The user's digest choice for a category, for a flow's digest step (a local activity: one quick read).
 * The answer is recorded in history, so a replay collects on the same schedule whatever the user changes.
 */
export function createDigestPreference(db: Db) {
  return async function digestPreference({
    userId,
    category,
  }: DigestPreferenceInput): Promise<DigestPreference> {
    return digestPreferenceFor(db, userId, category);
  };
}
