// What every email carries so that its reader can opt out: List-Unsubscribe with one-click POST
// (RFC 8058) for the notification's category, and a footer with that link and the preference page.
// A mandatory category offers no unsubscribe and says why.
import type { LinkHolder, PreferenceLinks } from '../../../domain/preference-links.js';
import type { OutgoingMessage } from '../channel.js';

export interface EmailOptOutOptions {
  links: PreferenceLinks;
  /** Categories that are always delivered (MANDATORY_CATEGORIES): no unsubscribe for them. */
  mandatoryCategories: readonly string[];
}

/** One footer line: plain text, or a link whose text is `text`. */
export interface FooterLine {
  text: string;
  url?: string;
}

interface EmailOptOut {
  headers: Record<string, string>;
  footer: FooterLine[];
}

export function emailOptOut(
  { links, mandatoryCategories }: EmailOptOutOptions,
  user: LinkHolder,
  message: OutgoingMessage,
): EmailOptOut {
  const page = links.pageLink(user);
  const until = page.expiresAt.toISOString().slice(0, 10);
  if (mandatoryCategories.includes(message.category)) {
    return {
      headers: {},
      footer: [
        { text: `“${message.category}” notifications are always sent: they cannot be turned off.` },
        { text: `Manage your other notifications (link valid until ${until})`, url: page.url },
      ],
    };
  }
  const unsubscribe = links.unsubscribeUrl(user, message.category, message.notificationId);
  return {
    headers: {
      'List-Unsubscribe': `<${unsubscribe}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
    footer: [
      { text: `Unsubscribe from “${message.category}” emails`, url: unsubscribe },
      { text: `Manage your notifications (link valid until ${until})`, url: page.url },
    ],
  };
}
