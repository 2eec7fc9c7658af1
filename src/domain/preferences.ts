export interface PreferenceRule {
  category: string;
  channel: string;
  enabled: boolean;
}

/**
 * The most specific rule wins: (category, channel) over (category, *) over (*, channel) over (*, *);
 * with no rule at all, the user receives everything.
 */
export function isAllowed(rules: readonly PreferenceRule[], category: string, channel: string): boolean {
  const candidates: [string, string][] = [
    [category, channel],
    [category, '*'],
    ['*', channel],
    ['*', '*'],
  ];
  for (const [cat, ch] of candidates) {
    const rule = rules.find((r) => r.category === cat && r.channel === ch);
    if (rule) return rule.enabled;
  }
  return true;
}
