// Core settings for requests to URLs that API callers and end users give: webhook receivers and browser
// push endpoints never reach private networks, except the hosts listed here.
import { defineConfigSlice, variable } from './define.js';
import { list } from './parsers.js';
import { allowedHostProblem, createOutboundPolicy, type OutboundPolicy } from '../outbound.js';

const allowedHosts = list.superRefine((entries, ctx) => {
  for (const entry of entries) {
    const problem = allowedHostProblem(entry);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }
});

export interface OutboundConfig {
  /** Where requests to user-supplied URLs may go: checks at registration and the guarded agents. */
  outbound: OutboundPolicy;
}

export const outboundConfig = defineConfigSlice({
  title: 'Outbound requests',
  summary:
    'Webhook URLs and browser push endpoints come from API callers and end users. Herald refuses them when they point at a loopback, private (10/8, 172.16/12, 192.168/16), carrier-grade (100.64/10), link-local (169.254/16, fe80::/10), unique-local (fc00::/7) or unspecified address, in any spelling: at registration (422) and again when connecting, after DNS resolution.',
  variables: {
    OUTBOUND_ALLOWED_HOSTS: variable({
      description:
        "Comma-separated exceptions for a deployment's own services: host names (allowed whatever they resolve to), IP addresses and CIDRs (such as `10.20.0.0/16`) that webhook URLs and push endpoints may reach although they are private. Only for receivers you run; `npm run dev` and the tests set `127.0.0.1` for their local sinks.",
      parse: allowedHosts,
      whenUnset: 'none: no private, loopback or link-local address is reached',
    }),
  },
  toConfig: (v): OutboundConfig => ({ outbound: createOutboundPolicy(v.OUTBOUND_ALLOWED_HOSTS ?? []) }),
});
