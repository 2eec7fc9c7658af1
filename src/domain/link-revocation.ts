// Revoking one user's preference and unsubscribe links without changing PREFERENCES_SECRET: every link
// carries the user's link version signed in it, revoking raises the version, and a link made for an
// older version is refused as an invalid one. A link issued afterwards carries the new version.
import { Prisma, type Db } from '../store/db.js';
import { NotFoundError } from './errors.js';
import type { LinkHolder } from './preference-links.js';
import { findUser } from './users.js';

/** Why a genuine link no longer opens anything: its user is gone, or its version was revoked. */
export type StaleLink = 'gone' | 'revoked';

/** The user a verified link names, as long as the link's version is still theirs. */
export async function currentLinkHolder(
  db: Db,
  link: { userId: string; linkVersion: number },
): Promise<LinkHolder | StaleLink> {
  const user = await db.user.findUnique({
    where: { id: link.userId },
    select: { id: true, linkVersion: true },
  });
  if (!user) return 'gone';
  return link.linkVersion < user.linkVersion ? 'revoked' : user;
}

/** Voids every link the user holds now; links issued from here on work. Returns the new version. */
export async function revokeLinks(
  db: Db,
  idOrExternalId: string,
): Promise<{ userId: string; linkVersion: number }> {
  const { id } = await findUser(db, idOrExternalId);
  try {
    const user = await db.user.update({
      where: { id },
      data: { linkVersion: { increment: 1 } },
      select: { id: true, linkVersion: true },
    });
    return { userId: user.id, linkVersion: user.linkVersion };
  } catch (error) {
    // Deleted between the lookup and the update: as missing as before it.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025')
      throw new NotFoundError(`User ${idOrExternalId}`);
    throw error;
  }
}
