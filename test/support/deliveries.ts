// Users and notifications through the API, and a notification's deliveries as GET /v1/notifications/:id
// shows them: for the end-to-end tests of one channel.
import assert from 'node:assert/strict';
import { eventually, uniqueId, type RunningStack } from './stack.js';

export interface NotificationView {
  status: string;
  deliveries: { channel: string; status: string; attempts: number; lastError: string | null }[];
}

export function deliveryClient(stack: () => RunningStack) {
  const createUser = async (fields: Record<string, unknown> = {}) => {
    const res = await stack().api('/v1/users', { json: { externalId: uniqueId(), ...fields } });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { id: string; contacts: Record<string, string> };
  };
  const notify = async (fields: Record<string, unknown>) => {
    const res = await stack().api('/v1/notifications', {
      json: { category: 'updates', title: 'Hello', body: 'Delivery test', ...fields },
    });
    assert.equal(res.status, 202, await res.clone().text());
    return (await res.json()) as { id: string; workflowId: string };
  };
  const view = async (id: string) =>
    (await (await stack().api(`/v1/notifications/${id}`)).json()) as NotificationView;
  /** Waits for the notification's status, and returns its view. */
  const settled = (id: string, status: string) =>
    eventually(
      async () => {
        const v = await view(id);
        return v.status === status && v;
      },
      { what: `notification ${id} to be ${status}`, timeoutMs: 30_000 },
    );
  const delivery = (v: NotificationView, channel: string) => {
    const found = v.deliveries.find((d) => d.channel === channel);
    assert.ok(found, `a ${channel} delivery in ${JSON.stringify(v)}`);
    return found;
  };
  return { createUser, notify, view, settled, delivery };
}
