// The template language (Handlebars, rendering plain text): earlier `{{var}}` templates render as they
// did, loops and branches work, and a template reaches neither prototypes nor code.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkTemplate,
  compiledTemplate,
  compiledTemplateCount,
  renderTemplateText as render,
  TemplateSyntaxError,
} from '../../src/domain/template-language.js';
import { renderTemplate, TemplateRenderError } from '../../src/domain/template-rendering.js';

describe('template language', () => {
  it('renders {{var}} and {{a.b}} as before: missing and null empty, objects as JSON, no escaping', () => {
    const data = {
      name: 'Ada <b>&"\'',
      order: { id: 'A-17', qty: 0, paid: false },
      tags: ['x', 'y'],
      none: null,
    };
    assert.equal(
      render('Hi {{name}}, {{ order.id }} x{{order.qty}} {{order.paid}} {{tags}} {{order}}', data),
      'Hi Ada <b>&"\', A-17 x0 false ["x","y"] {"id":"A-17","qty":0,"paid":false}',
    );
    assert.equal(render('[{{missing}}][{{a.b.c}}][{{none}}][{{none.x}}][{{name.x}}]', data), '[][][][][]');
    assert.equal(render('{{tags.0}} and {{ tags.1 }}', data), 'x and y');
    assert.equal(render('Plain text, no braces: <b> & </b>', {}), 'Plain text, no braces: <b> & </b>');
  });

  it('a variable named like a built-in helper is still the variable', () => {
    assert.equal(
      render('{{log}} {{if}} {{each}} {{lookup}}', { log: 'L', if: 'I', each: 'E', lookup: 'K' }),
      'L I E K',
    );
  });

  it('loops over items and branches', () => {
    const items = [
      { title: 'One <1>', data: { urgent: true } },
      { title: 'Two & two', data: {} },
    ];
    assert.equal(
      render('{{#each items}}{{@index}}. {{title}}{{#if data.urgent}} !{{/if}}\n{{/each}}', { items }),
      '0. One <1> !\n1. Two & two\n',
    );
    assert.equal(render('{{#if items}}some{{else}}none{{/if}}', { items: [] }), 'none');
    assert.equal(
      render('{{#unless done}}open{{/unless}} {{#with order}}{{id}}{{/with}}', { order: { id: 7 } }),
      'open 7',
    );
    assert.equal(render('{{lookup order key}}', { order: { a: 1 }, key: 'a' }), '1');
    assert.equal(render('{{#each missing}}x{{else}}empty{{/each}}', {}), 'empty');
  });

  it('reaches no prototype and runs no code', () => {
    const data = { o: {} };
    for (const t of [
      '{{constructor}}',
      '{{__proto__}}',
      '{{o.constructor}}',
      '{{o.constructor.constructor}}',
      '{{o.__proto__.toString}}',
      '{{toString}}',
      '{{o.hasOwnProperty}}',
      '{{#with o.constructor}}{{name}}{{/with}}',
      '{{lookup o "constructor"}}',
      '{{#with (lookup o "constructor")}}{{lookup this "constructor"}}{{/with}}',
    ]) {
      assert.equal(render(t, data), '', t);
    }
    // A prototype polluted elsewhere is not read through either.
    assert.equal(render('{{o.polluted}}', { o: Object.create({ polluted: 'yes' }) }), '');
  });

  it('refuses what does not compile, naming the problem', () => {
    const refused: [string, RegExp][] = [
      ['{{name', /Parse error on line 1/],
      ['{{#if a}}x{{/each}}', /if doesn't match each/],
      ['{{> footer}}', /partials .* not supported/],
      ['{{foo bar}}', /unknown helper foo .*the helpers are if, unless, each, with, lookup/],
      ['{{log "x"}}', /unknown helper log/],
      ['{{#each}}{{/each}}', /each takes one argument \(line 1, column 1\)/],
      ['{{#if a b}}{{/if}}', /if takes one argument/],
      ['{{lookup a}}', /lookup takes 2 arguments/],
      ['{{constructor.constructor("return process")()}}', /Parse error/],
      ['line\n{{*inline "x"}}', /decorators .*line 2/],
    ];
    for (const [text, message] of refused) {
      assert.throws(
        () => checkTemplate(text),
        (e) => e instanceof TemplateSyntaxError && message.test(e.message),
        text,
      );
    }
    assert.doesNotThrow(() => checkTemplate('{{#each items}}{{title}}{{/each}} {{a.b}} {{#if x}}y{{/if}}'));
  });

  it('compiles each template text once', () => {
    const text = `cached ${Math.random()} {{x}}`;
    const first = compiledTemplate(text);
    const count = compiledTemplateCount();
    assert.equal(compiledTemplate(text), first);
    assert.equal(compiledTemplateCount(), count);
    assert.equal(render(text, { x: 1 }).endsWith(' 1'), true);
  });

  it('stored text that does not render fails the delivery for good', () => {
    assert.throws(() => renderTemplate('{{#each}}', {}), TemplateRenderError);
    assert.throws(() => renderTemplate('{{#each}}', {}), { name: 'TemplateRenderError' });
  });
});
