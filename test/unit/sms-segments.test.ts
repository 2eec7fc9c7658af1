import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  countSegments,
  fitToSegments,
  renderSms,
  smsEncoding,
} from '../../src/activities/channels/sms/text.js';

// GSM 03.38 written out from the standard's table, independently of the module's own constant.
const GSM_BASIC_TABLE =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION_TABLE = '\f^{}\\[~]|€';

const a = (n: number) => 'a'.repeat(n);
const ya = (n: number) => 'я'.repeat(n);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('smsEncoding', () => {
  it('is GSM-7 for every character of the basic table and the extension table', () => {
    assert.equal([...GSM_BASIC_TABLE].length, 127); // 128 codes minus the escape
    assert.equal(smsEncoding(GSM_BASIC_TABLE), 'GSM-7');
    assert.equal(smsEncoding(GSM_EXTENSION_TABLE), 'GSM-7');
    assert.equal(smsEncoding(''), 'GSM-7');
  });

  for (const char of ['á', 'ç', '`', '\t', '\u00a0', 'Я', '你', '😀', '…', '’', '\u001b']) {
    it(`is UCS-2 as soon as the text holds ${JSON.stringify(char)}`, () => {
      assert.equal(smsEncoding(`Hello ${char} world`), 'UCS-2');
    });
  }
});

describe('countSegments', () => {
  it('counts GSM-7 texts: 160 in one part, then 153 per part', () => {
    assert.equal(countSegments(''), 1);
    assert.equal(countSegments(a(160)), 1);
    assert.equal(countSegments(a(161)), 2);
    assert.equal(countSegments(a(306)), 2);
    assert.equal(countSegments(a(307)), 3);
    assert.equal(countSegments(GSM_BASIC_TABLE + a(33)), 1);
    assert.equal(countSegments(GSM_BASIC_TABLE + a(34)), 2);
  });

  it('counts UCS-2 texts: 70 in one part, then 67 per part', () => {
    assert.equal(countSegments(ya(70)), 1);
    assert.equal(countSegments(ya(71)), 2);
    assert.equal(countSegments(ya(134)), 2);
    assert.equal(countSegments(ya(135)), 3);
  });

  it('turns the whole text into UCS-2 for one character outside GSM-7', () => {
    assert.equal(countSegments(a(69) + 'я'), 1);
    assert.equal(countSegments(a(70) + 'я'), 2);
  });

  it('counts extension characters as two septets', () => {
    assert.equal(countSegments('€'.repeat(80)), 1);
    assert.equal(countSegments('€'.repeat(81)), 2);
    assert.equal(countSegments(a(159) + '{'), 2);
    assert.equal(countSegments(a(158) + '}'), 1);
    assert.equal(countSegments('[]'.repeat(40)), 1);
    assert.equal(countSegments('[]'.repeat(40) + '~'), 2);
  });

  it('never splits an escape pair across two parts', () => {
    // 306 septets would fill two parts exactly, but the euro sign cannot straddle septets 153 and 154.
    assert.equal(countSegments(a(152) + '€' + a(152)), 3);
    assert.equal(countSegments(a(151) + '€' + a(153)), 2);
  });

  it('counts a surrogate pair as two units and never splits it across parts', () => {
    assert.equal(countSegments('😀'.repeat(35)), 1);
    assert.equal(countSegments('😀'.repeat(36)), 2);
    assert.equal(countSegments(ya(66) + '😀' + ya(66)), 3);
    assert.equal(countSegments(ya(65) + '😀' + ya(67)), 2);
  });
});

describe('fitToSegments', () => {
  it('leaves a text that fits untouched', () => {
    assert.equal(fitToSegments(a(160), 1), a(160));
    assert.equal(fitToSegments(ya(134), 2), ya(134));
    assert.equal(fitToSegments('  spaced  ', 1), '  spaced  ');
  });

  it('cuts GSM-7 text to the last septet it can keep, ending in "..."', () => {
    assert.equal(fitToSegments(a(400), 1), a(157) + '...');
    assert.equal(fitToSegments(a(400), 2), a(303) + '...');
    assert.equal(fitToSegments(a(500), 3), a(456) + '...');
  });

  it('cuts UCS-2 text ending in "…", one unit', () => {
    assert.equal(fitToSegments(ya(200), 1), ya(69) + '…');
    assert.equal(fitToSegments(ya(200), 2), ya(133) + '…');
  });

  it('counts an extension character at the cut as two septets', () => {
    assert.equal(fitToSegments(a(156) + '€' + a(10), 1), a(156) + '...');
    assert.equal(fitToSegments(a(155) + '€' + a(10), 1), a(155) + '€...');
  });

  it('keeps GSM-7 and "..." when the characters outside GSM-7 fall after the cut', () => {
    const fitted = fitToSegments(a(300) + 'я', 1);
    assert.equal(fitted, a(157) + '...');
    assert.equal(smsEncoding(fitted), 'GSM-7');
  });

  it('stops before a character outside GSM-7 when the text would no longer fit as UCS-2', () => {
    // 1000 septets fit in 7 GSM-7 parts; with the emoji, 9 UCS-2 parts hold only 603 units.
    assert.equal(fitToSegments(a(1000) + '😀' + a(1000), 9), a(1000) + '...');
    assert.equal(fitToSegments(a(500) + '😀' + a(1000), 9), a(500) + '😀' + a(100) + '…');
  });

  it('never splits a surrogate pair or an emoji sequence', () => {
    assert.equal(fitToSegments('😀'.repeat(100), 1), '😀'.repeat(34) + '…');
    assert.equal(fitToSegments('😀'.repeat(100), 2), '😀'.repeat(66) + '…');
    const family = '👨‍👩‍👧'; // three emoji joined by ZWJ: 8 UTF-16 units, one grapheme
    assert.equal(fitToSegments(family.repeat(20), 1), family.repeat(8) + '…');
    assert.doesNotMatch(fitToSegments('x' + '😀'.repeat(100), 1), LONE_SURROGATE);
  });

  it('ends on a word when one ended shortly before the cut', () => {
    const fitted = fitToSegments('word '.repeat(100), 1);
    assert.match(fitted, /^(word )+word\.\.\.$/);
    assert.equal(fitted.length, 157);
  });

  it('never exceeds the parts allowed, and keeps the start of the text', () => {
    const texts = [
      'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(30),
      'Ваш заказ №42 доставлен. Спасибо, что выбрали нас! '.repeat(30),
      'Price {€9} [50% off] ~ today | ^_^ '.repeat(40),
      'Party 🎉 tonight 👨‍👩‍👧 at 8! '.repeat(40),
    ];
    for (const text of texts) {
      for (let max = 1; max <= 10; max++) {
        const fitted = fitToSegments(text, max);
        assert.ok(countSegments(fitted) <= max, `${countSegments(fitted)} parts > ${max}: ${fitted}`);
        assert.ok(countSegments(fitted) >= max - 1, `wasteful cut at ${max} parts: ${fitted}`);
        assert.ok(text.startsWith(fitted.replace(/(\.\.\.|…)$/, '')), fitted);
        assert.doesNotMatch(fitted, LONE_SURROGATE);
      }
    }
  });

  it('rejects fewer than one part', () => {
    assert.throws(() => fitToSegments('hi', 0), RangeError);
  });
});

describe('renderSms', () => {
  it('puts the title on the first line and the body below it', () => {
    assert.equal(renderSms({ title: 'Invoice paid', body: 'Thank you.' }, 3), 'Invoice paid\nThank you.');
    assert.equal(renderSms({ title: '', body: 'Only a body' }, 3), 'Only a body');
    assert.equal(renderSms({ title: 'Only a title', body: '  ' }, 3), 'Only a title');
  });

  it('normalises whitespace: one line for the title, single spaces and line breaks in the body', () => {
    const text = renderSms(
      { title: '  Invoice \t paid\n today ', body: ' Line  one  \r\n\r\n\t Line\u00a0\u00a0two \n\n' },
      3,
    );
    assert.equal(text, 'Invoice paid today\nLine one\nLine two');
    assert.equal(smsEncoding(text), 'GSM-7');
  });

  it('replaces typographic quotes, dashes and "…" when that keeps the message GSM-7', () => {
    const text = renderSms({ title: 'Don’t miss it — “sale”…', body: 'Ends ‘soon’ – really' }, 3);
    assert.equal(text, "Don't miss it - \"sale\"...\nEnds 'soon' - really");
    assert.equal(smsEncoding(text), 'GSM-7');
  });

  it('keeps typographic characters in a text that is UCS-2 anyway', () => {
    assert.equal(renderSms({ title: 'Привет — “друг”', body: '' }, 3), 'Привет — “друг”');
  });

  it('cuts to the allowed number of parts', () => {
    const text = renderSms({ title: 'News', body: 'All the news that fits. '.repeat(100) }, 2);
    assert.equal(countSegments(text), 2);
    assert.ok(text.startsWith('News\nAll the news that fits.'));
    assert.ok(text.endsWith('...'));
  });
});
