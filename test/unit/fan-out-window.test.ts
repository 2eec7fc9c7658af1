import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FanOutWindow } from '../../src/activities/fan-out-window.js';

/** A fan-out's started workflows: each admitted one waits until the test lets it take its first step. */
function fakeFanOut(size: number, options: { stallMs?: number; now?: () => number } = {}) {
  let waiting = 0;
  let counts = 0;
  const window = new FanOutWindow({
    size,
    pollMs: 5,
    countWaiting: async () => {
      counts += 1;
      return waiting;
    },
    ...options,
  });
  return {
    window,
    admit: async () => {
      const admitted = await window.admit();
      if (admitted) waiting += 1;
      return admitted;
    },
    step: (n: number) => {
      waiting -= n;
    },
    get counts() {
      return counts;
    },
  };
}

const settled = async (p: Promise<unknown>) =>
  Promise.race([p.then(() => true), new Promise((r) => setTimeout(() => r(false), 50))]);

describe('a fan-out window', () => {
  it('admits up to its size, counting once, then holds until started ones take their first step', async () => {
    const fanOut = fakeFanOut(3);
    for (let i = 0; i < 3; i++) assert.equal(await fanOut.admit(), true);
    assert.equal(fanOut.counts, 1, 'one count for the first admit, none while there is room');
    const fourth = fanOut.admit();
    assert.equal(await settled(fourth), false, 'held while 3 wait');
    fanOut.step(1);
    assert.equal(await fourth, true);
    assert.equal(fanOut.window.held, 1);
  });

  it('admits lanes that wait together one per freed place, sharing one count at a time', async () => {
    const fanOut = fakeFanOut(2);
    await fanOut.admit();
    await fanOut.admit();
    const lanes = [fanOut.admit(), fanOut.admit(), fanOut.admit()];
    let admitted = 0;
    for (const lane of lanes) void lane.then(() => (admitted += 1));
    await settled(Promise.all(lanes));
    assert.equal(admitted, 0);
    fanOut.step(1);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(admitted, 1, 'one freed place, one start');
    fanOut.step(2);
    await Promise.all(lanes);
    assert.equal(admitted, 3);
  });

  it('lanes that start together share the first count and take only the room it found', async () => {
    const fanOut = fakeFanOut(2);
    let admitted = 0;
    const lanes = Array.from({ length: 5 }, () => fanOut.admit().then(() => (admitted += 1)));
    await settled(Promise.all(lanes));
    assert.equal(admitted, 2);
    fanOut.step(3 - 1);
    fanOut.step(1);
    await Promise.all(lanes);
    assert.equal(admitted, 5);
  });

  it('stops pacing once full for its stall time without a step, so a campaign is never wedged', async () => {
    let clock = 0;
    const fanOut = fakeFanOut(1, { stallMs: 1_000, now: () => clock });
    await fanOut.admit();
    const held = fanOut.admit();
    assert.equal(await settled(held), false);
    clock = 1_000;
    assert.equal(await held, true);
    assert.equal(fanOut.window.stalled, true);
    assert.equal(await fanOut.admit(), true, 'no longer held');
  });

  it('answers false once its signal aborts, while held or before', async () => {
    const controller = new AbortController();
    let waiting = 1;
    const window = new FanOutWindow({
      size: 1,
      pollMs: 5,
      countWaiting: async () => waiting,
      signal: controller.signal,
    });
    const held = window.admit();
    assert.equal(await settled(held), false);
    controller.abort();
    assert.equal(await held, false);
    waiting = 0;
    assert.equal(await window.admit(), false);
  });

  it('calls back on every look while held: the activity heartbeats through a long hold', async () => {
    let beats = 0;
    let waiting = 1;
    const window = new FanOutWindow({
      size: 1,
      pollMs: 5,
      countWaiting: async () => waiting,
      whileHeld: () => (beats += 1),
    });
    const held = window.admit();
    await new Promise((r) => setTimeout(r, 40));
    waiting = 0;
    await held;
    assert.ok(beats >= 3, `${beats} beats`);
  });
});
