// OpenTelemetry on real parts: an in-process OTLP receiver (HTTP, JSON) collects the spans while one
// notification goes from the API through Temporal to the SMTP sink. They form one trace, each span under
// the one that caused it, with no personal data in any attribute; log lines carry the trace id.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../src/platform/logger.js';
import { startTelemetry, type Telemetry } from '../src/platform/telemetry.js';
import { startSmtpSink, type SmtpSink } from '../tools/fakes/smtp-sink.js';
import {
  eventually,
  startHerald,
  testEnv,
  uniqueId,
  untilStatus,
  type RunningStack,
} from './support/stack.js';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  arrayValue?: { values: OtlpValue[] };
}
interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: OtlpValue }[];
  events?: { name: string; attributes?: { key: string; value: OtlpValue }[] }[];
  status?: { message?: string };
}
const SERVER = 2;

/** An OTLP/HTTP receiver that keeps every span it is sent (JSON encoding). */
async function startOtlpReceiver() {
  const spans: ReceivedSpan[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      assert.equal(req.url, '/v1/traces');
      const request = JSON.parse(body) as {
        resourceSpans: { scopeSpans: { spans: ReceivedSpan[] }[] }[];
      };
      for (const resource of request.resourceSpans)
        for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const attribute = (span: ReceivedSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? value?.intValue;
};

describe('tracing (OpenTelemetry, OTLP over HTTP)', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let telemetry: Telemetry;
  let smtp: SmtpSink;
  let herald: RunningStack;
  const logLines: Record<string, unknown>[] = [];
  before(async () => {
    receiver = await startOtlpReceiver();
    assert.equal(startTelemetry('herald-test').enabled, false, 'off unless configured');
    // The standard variables, as a deployment sets them; the exporter reads them itself.
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
    telemetry = startTelemetry('herald-test');
    smtp = await startSmtpSink();
    const logs = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    herald = await startHerald(
      testEnv({ SMTP_URL: smtp.url, MAIL_FROM: 'Herald <herald@example.test>', LOG_LEVEL: 'info' }),
      { logger: createLogger('test', 'info', logs) },
    );
  });
  after(async () => {
    await herald?.stop();
    await smtp?.close();
    await telemetry?.shutdown();
    await receiver?.close();
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
  });

  it('traces one notification as one trace, request to SMTP, with no personal data', async () => {
    assert.ok(telemetry.enabled);
    const personal = {
      email: `ada.${uniqueId('trace')}@example.test`,
      phone: '+14155550123',
      title: 'Your secret invoice title',
      body: 'The private body of the message',
    };
    const user = (await (
      await herald.api('/v1/users', {
        json: { externalId: uniqueId('traced'), contacts: { email: personal.email, sms: personal.phone } },
      })
    ).json()) as { id: string };
    const res = await herald.api('/v1/notifications', {
      json: {
        userId: user.id,
        category: 'billing',
        title: personal.title,
        body: personal.body,
        channels: ['email'],
      },
    });
    assert.equal(res.status, 202);
    const { id, workflowId } = (await res.json()) as { id: string; workflowId: string };
    await untilStatus(herald, id, 'sent');
    await herald.temporal.workflow.getHandle(workflowId).result();

    const request = await eventually(
      async () => {
        await telemetry.flush();
        return receiver.spans.find((s) => s.kind === SERVER && s.name === 'POST /v1/notifications');
      },
      { what: 'the request span' },
    );
    const inTrace = () => receiver.spans.filter((s) => s.traceId === request.traceId);
    const named = (name: string) => inTrace().filter((s) => s.name === name);
    await eventually(
      async () => {
        await telemetry.flush();
        return named('RunWorkflow:notificationWorkflow').length > 0 && named('smtp send').length > 0;
      },
      { what: 'the workflow and SMTP spans' },
    );
    const one = (name: string, parent: ReceivedSpan) => {
      const found = named(name).filter((s) => s.parentSpanId === parent.spanId);
      assert.equal(
        found.length,
        1,
        `one ${name} under ${parent.name}: ${inTrace()
          .map((s) => s.name)
          .join(', ')}`,
      );
      return found[0]!;
    };

    // The chain, each span under the one that caused it.
    assert.equal(attribute(request, 'http.route'), '/v1/notifications');
    assert.equal(attribute(request, 'http.response.status_code'), 202);
    const start = one('StartWorkflow:notificationWorkflow', request);
    const run = one('RunWorkflow:notificationWorkflow', start);
    assert.equal(attribute(run, 'workflowId'), workflowId);
    one('RunActivity:resolveRecipient', one('StartActivity:resolveRecipient', run));
    const deliver = one('RunActivity:deliverEmail', one('StartActivity:deliverEmail', run));
    const smtpSend = one('smtp send', one('email send', deliver));
    assert.equal(attribute(smtpSend, 'server.address'), '127.0.0.1');

    // One trace: every span of this workflow is in it, and every span in it has its parent in it.
    const ids = new Set(inTrace().map((s) => s.spanId));
    for (const span of inTrace()) if (span !== request) assert.ok(ids.has(span.parentSpanId!), span.name);
    const ofWorkflow = receiver.spans.filter((s) => attribute(s, 'workflowId') === workflowId);
    assert.ok(ofWorkflow.length >= 3);
    assert.deepEqual(new Set(ofWorkflow.map((s) => s.traceId)), new Set([request.traceId]));

    // No personal data in any attribute, event or status.
    const exported = JSON.stringify(inTrace().map((s) => [s.attributes, s.events, s.status]));
    for (const [what, value] of Object.entries(personal))
      assert.ok(!exported.includes(value), `the ${what} is in a span: ${exported}`);

    // Log lines name the trace: the request's, and the delivery's in the worker.
    const traced = logLines.filter((l) => l.trace_id === request.traceId).map((l) => l.msg);
    assert.ok(traced.includes('request'), `the request line carries the trace id: ${JSON.stringify(traced)}`);
    assert.ok(traced.includes('notification accepted'), JSON.stringify(traced));
  });
});
