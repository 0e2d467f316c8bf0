import { describe, expect, it } from 'vitest';
import { PROFILE_LIMITS, type Profile } from '../../../../shared/index.js';
import type { FetchLike } from '../../../lib/api.js';
import { initI18n, t } from '../../../lib/i18n.js';
import { json } from '../../../lib/testing/dom.js';
import { panelContext, viewTestFrame } from '../testing.js';
import { childrenView } from './children.js';
import { generateChromeMessages, parseMessagesFile } from '@wxt-dev/i18n/build';
import { join } from 'node:path';
import type { ChromeMessages } from '../../../lib/i18n.js';

/** A server with no children yet; readiness answers for none. */
const fetchFake: FetchLike = async (url, init) => {
  const path = new URL(url).pathname;
  // A refusal only the server makes (its own rules on top of the shared schema).
  if (path === '/api/profiles' && init?.method === 'POST')
    return new Response(
      JSON.stringify({ error: { code: 'invalid_request', message: 'Invalid', fields: { name: 'Not a name' } } }),
      { status: 400, headers: { 'content-type': 'application/json' } },
    );
  if (path === '/api/profiles') return json({ profiles: [] });
  if (path === '/api/calls/readiness')
    return json({ balanceSeconds: 0, availableSeconds: 0, liveCalls: [], profiles: [] });
  return new Response(JSON.stringify({ error: { code: 'not_found', message: 'Not found' } }), { status: 404 });
};

function fire(el: Element, type: string): void {
  const ev = document.createEvent('Event');
  ev.initEvent(type, true, true);
  el.dispatchEvent(ev);
}

async function addForm(): Promise<HTMLElement> {
  const ctx = panelContext({
    view: 'children',
    fetch: fetchFake,
    raw: ui.raw,
    profiles: async (): Promise<Profile[]> => [],
  });
  const section = await childrenView(ctx, ui.scope.signal);
  ui.doc.body.append(section);
  section.querySelector<HTMLButtonElement>('button.add-child')!.click();
  return section;
}

const ui = viewTestFrame();

describe('the child form', () => {
  it('takes a wish-list error away as soon as the wishes are valid again, and keeps it while they are not', async () => {
    const section = await addForm();
    const form = section.querySelector('form')!;
    (section.querySelector('input[name="name"]') as HTMLInputElement).value = 'Ada';
    (section.querySelector('input[name="age"]') as HTMLInputElement).value = '7';
    const wishes = section.querySelector<HTMLTextAreaElement>('textarea[name="wishList"]')!;
    wishes.value = `A sledge\n${'x'.repeat(PROFILE_LIMITS.wishItem + 1)}`;
    fire(form, 'submit');
    const error = () => wishes.closest('.field')!.querySelector<HTMLElement>('.field-error')!;
    await expect.poll(() => error().hidden).toBe(false);
    expect(error().textContent).toBe(t('child.invalid.wishList'));
    expect(wishes.getAttribute('aria-invalid')).toBe('true');

    // Still too long: the error stays.
    wishes.value = `A sledge\n${'x'.repeat(PROFILE_LIMITS.wishItem + 2)}`;
    fire(wishes, 'input');
    expect(error().hidden).toBe(false);

    // Fixed: it goes at once, with its description and invalid state.
    wishes.value = 'A sledge\nA red bicycle';
    fire(wishes, 'input');
    expect(error().hidden).toBe(true);
    expect(wishes.getAttribute('aria-invalid')).toBeNull();
    expect(wishes.getAttribute('aria-describedby') ?? '').not.toContain(error().id);
  });

  it('a fixed age clears its own error only, not one that still stands', async () => {
    const section = await addForm();
    const form = section.querySelector('form')!;
    (section.querySelector('input[name="name"]') as HTMLInputElement).value = 'Ada';
    const age = section.querySelector<HTMLInputElement>('input[name="age"]')!;
    age.value = '99';
    const wishes = section.querySelector<HTMLTextAreaElement>('textarea[name="wishList"]')!;
    wishes.value = 'x'.repeat(PROFILE_LIMITS.wishItem + 1);
    fire(form, 'submit');
    const errorOf = (el: Element) => el.closest('.field')!.querySelector<HTMLElement>('.field-error')!;
    await expect.poll(() => errorOf(age).hidden).toBe(false);
    expect(errorOf(wishes).hidden).toBe(false);
    age.value = '8';
    fire(age, 'input');
    expect(errorOf(age).hidden).toBe(true);
    expect(errorOf(wishes).hidden).toBe(false);
  });

  it('a refusal the server made stays while another field is edited, and goes once its own field is changed to a valid value', async () => {
    const section = await addForm();
    const form = section.querySelector('form')!;
    const name = section.querySelector<HTMLInputElement>('input[name="name"]')!;
    name.value = 'Ada';
    (section.querySelector('input[name="age"]') as HTMLInputElement).value = '7';
    fire(form, 'submit');
    const errorOf = (el: Element) => el.closest('.field')!.querySelector<HTMLElement>('.field-error')!;
    await expect.poll(() => errorOf(name).hidden).toBe(false);
    const wishes = section.querySelector<HTMLTextAreaElement>('textarea[name="wishList"]')!;
    wishes.value = 'A kite';
    fire(wishes, 'input');
    expect(errorOf(name).hidden).toBe(false);
    name.value = 'Ada Lovelace';
    fire(name, 'input');
    expect(errorOf(name).hidden).toBe(true);
  });

  it("opens the browser's file picker from a button in the parent's language, and names the chosen file", async () => {
    const messages = generateChromeMessages(
      await parseMessagesFile(join(import.meta.dirname, '..', '..', '..', 'locales', 'da.yml')),
    ) as ChromeMessages;
    await initI18n({ setting: 'da', load: async () => messages });
    const section = await addForm();
    const input = section.querySelector<HTMLInputElement>('input[type="file"][name="photo"]')!;
    // The native control (its "Choose File" is in the browser's language) is not shown or tabbed to.
    expect(input.hidden).toBe(true);
    expect(input.tabIndex).toBe(-1);
    const choose = section.querySelector<HTMLButtonElement>('button.file-choose')!;
    expect(choose.textContent).toBe('Vælg et foto');
    // Named by the field's label and its own words; described by the hint and what is chosen.
    const label = section.querySelector<HTMLLabelElement>(`label[for="${input.id}"]`)!;
    expect(label.textContent).toBe('Foto (valgfrit)');
    expect(choose.getAttribute('aria-labelledby')).toBe(`${label.id} ${choose.id}`);
    const described = (choose.getAttribute('aria-describedby') ?? '').split(' ');
    expect(described.map((id) => section.querySelector(`#${id}`)?.textContent)).toEqual([
      messages.child_photoHint!.message,
      'Intet foto valgt',
    ]);
    let opened = 0;
    input.click = () => {
      opened += 1;
    };
    choose.click();
    expect(opened).toBe(1);
  });
});
