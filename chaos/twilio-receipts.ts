// The handsets behind the Twilio fake: every message it accepted is reported `delivered` a moment later,
// through Twilio's signed status callback to the API, whatever the API's state. As with Twilio, a callback
// the API does not take (killed, restarting) is not sent again: that delivery stays `sent`.
import type { TwilioFake } from '../tools/fakes/twilio.js';

export interface TwilioReceipts {
  /** Callbacks the API answered 2xx, and those it did not take. */
  readonly taken: number;
  readonly missed: number;
  /** Reports what is left, then stops. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startTwilioReceipts(twilio: TwilioFake, delayMs = 500): TwilioReceipts {
  let reported = 0;
  let taken = 0;
  let missed = 0;
  let stopping = false;
  const report = async (all: boolean) => {
    // Messages are in order of arrival: the first not yet due ends the batch.
    let end = reported;
    const { messages } = twilio;
    while (end < messages.length && (all || Date.now() - messages[end]!.at >= delayMs)) end++;
    const batch = messages.slice(reported, end);
    reported = end;
    await Promise.all(
      batch.map((m) =>
        twilio.sendStatus(m.sid, 'delivered').then(
          (answer) => (answer.status < 300 ? taken++ : missed++),
          () => missed++,
        ),
      ),
    );
  };
  const loop = (async () => {
    while (!stopping) {
      await report(false);
      await sleep(250);
    }
  })();
  return {
    get taken() {
      return taken;
    },
    get missed() {
      return missed;
    },
    async stop() {
      stopping = true;
      await loop;
      await report(true);
    },
  };
}
