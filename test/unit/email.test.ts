import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classifySmtpError, renderEmail } from '../../src/activities/channels/email/index.js';
import { PermanentChannelError } from '../../src/activities/channels/channel.js';
import { message } from '../support/messages.js';

/** An error shaped like nodemailer's SMTP errors. */
function smtpError(message: string, fields: { code?: string; responseCode?: number }): Error {
  return Object.assign(new Error(message), fields);
}

describe('classifySmtpError', () => {
  it('treats a 5xx response as permanent', () => {
    const result = classifySmtpError(
      smtpError('Mailbox unavailable', { code: 'EENVELOPE', responseCode: 550 }),
    );
    assert.equal(result.permanent, true);
    assert.equal(result.reason, 'SMTP 550: Mailbox unavailable');
  });

  it('treats 500 itself as permanent', () => {
    assert.equal(classifySmtpError(smtpError('Syntax error', { responseCode: 500 })).permanent, true);
  });

  it('treats a 4xx response as transient', () => {
    const result = classifySmtpError(smtpError('Try again later', { code: 'EENVELOPE', responseCode: 451 }));
    assert.equal(result.permanent, false);
    assert.equal(result.reason, 'SMTP 451: Try again later');
  });

  it('treats 499 as transient', () => {
    assert.equal(classifySmtpError(smtpError('Busy', { responseCode: 499 })).permanent, false);
  });

  for (const code of ['ECONNREFUSED', 'ETIMEDOUT', 'ECONNECTION', 'EDNS', 'ETLS']) {
    it(`treats ${code} without a response code as transient`, () => {
      const result = classifySmtpError(smtpError('connect failed', { code }));
      assert.equal(result.permanent, false);
      assert.equal(result.reason, `${code}: connect failed`);
    });
  }

  it('treats a PermanentChannelError as permanent', () => {
    const result = classifySmtpError(new PermanentChannelError('the user has no email address'));
    assert.deepEqual(result, { permanent: true, reason: 'the user has no email address' });
  });

  it('treats an unknown error without code as transient and keeps its text', () => {
    assert.deepEqual(classifySmtpError(new Error('socket hang up')), {
      permanent: false,
      reason: 'socket hang up',
    });
    assert.deepEqual(classifySmtpError('weird'), { permanent: false, reason: 'weird' });
  });
});

describe('renderEmail', () => {
  it('uses the title as subject and the body as text, unchanged', () => {
    const body = 'Hello <b>you</b> & co.\n\nSecond "paragraph".';
    const rendered = renderEmail(message('Invoice <#42>', body));
    assert.equal(rendered.subject, 'Invoice <#42>');
    assert.equal(rendered.text, body);
  });

  it('escapes HTML in title and body', () => {
    const rendered = renderEmail(
      message('<script>alert("t")</script>', `<script>alert('b')</script> & <img src=x onerror=y>`),
    );
    assert.doesNotMatch(rendered.html, /<script/i);
    assert.doesNotMatch(rendered.html, /<img/i);
    assert.ok(
      rendered.html.includes('<h1>&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;</h1>'),
      rendered.html,
    );
    assert.ok(
      rendered.html.includes(
        '<p>&lt;script&gt;alert(&#39;b&#39;)&lt;/script&gt; &amp; &lt;img src=x onerror=y&gt;</p>',
      ),
      rendered.html,
    );
    // The plain-text part is not HTML and stays as given.
    assert.equal(rendered.text, `<script>alert('b')</script> & <img src=x onerror=y>`);
  });

  it('turns blank-line separated paragraphs into <p> and single newlines into <br>', () => {
    const rendered = renderEmail(message('Title', 'First line\nsecond line\n\nSecond paragraph\n\n\nThird'));
    assert.equal(
      rendered.html,
      '<!doctype html><html><body><h1>Title</h1>\n' +
        '<p>First line<br>second line</p>\n<p>Second paragraph</p>\n<p>Third</p>' +
        '</body></html>',
    );
  });

  it('wraps a single-paragraph body in one <p>', () => {
    const { html } = renderEmail(message('T', 'Just one'));
    assert.equal(html.match(/<p>/g)?.length, 1);
    assert.ok(html.includes('<p>Just one</p>'));
  });
});
