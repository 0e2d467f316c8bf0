import {
  LOCALES,
  PROFILE_LIMITS,
  type CallReadiness,
  createProfileBodySchema,
  type CreateProfileBody,
  type Locale,
  type Profile,
} from '../../../../shared/index.js';
import { h, mount } from '../../../components/dom.js';
import { phoneIcon } from '../../../components/icons.js';
import { askPinDialog } from '../../../components/pin-prompt.js';
import {
  avatar,
  busy,
  button,
  checkbox,
  confirmDialog,
  field,
  fileField,
  focusHeading,
  messageArea,
  type Field,
} from '../../../components/ui.js';
import { ApiError } from '../../../lib/api.js';
import { openCallWindow } from '../../../lib/browser-ui.js';
import { formatAge } from '../../../lib/format.js';
import { currentLocale, t } from '../../../lib/i18n.js';
import { describeError } from '../../../lib/messages.js';
import { hasPin } from '../../../lib/pin.js';
import { blockHelp, blockLabel, loadReadiness } from '../../../lib/readiness.js';
import { followUpdates } from '../live-updates.js';
import type { PanelContext } from '../context.js';

/**
 * The children: list, call launcher, add, edit (with parent controls), delete with confirmation.
 *
 * Each child's Call button says, before any window opens, what stands in the way of a call now
 * (quiet time, no call time, a sibling's call holding the time ...), from the server's own
 * checks; it follows `credits:updated` (a call starting or ending moves the credit) in place.
 */
export async function childrenView(
  ctx: PanelContext,
  signal: AbortSignal = new AbortController().signal,
): Promise<HTMLElement> {
  const section = h('section', { class: 'children' });
  // A call's hold moves the credit before the call is live; call:started and call:ended say when it is.
  const live = followUpdates(ctx.socket, ['credits:updated', 'call:started', 'call:ended'], signal, () =>
    loadReadiness(ctx.api),
  );
  const [profiles, readiness] = await Promise.all([ctx.profiles(true), loadReadiness(ctx.api)]).catch(
    (err: unknown) => {
      live.stop();
      throw err;
    },
  );
  const paint = showList(ctx, section, profiles, readiness, signal);
  live.start((next) => paint(next));
  // Back after a lost connection, the events of the outage are gone: ask again.
  const off = ctx.socket?.onStatus((status) => {
    if (status === 'connected') void loadReadiness(ctx.api).then((r) => !signal.aborted && paint(r));
  });
  if (off) signal.addEventListener('abort', off, { once: true });
  return section;
}

/** Asks for the PIN (if one is set), checks once more that the call can start, then opens the child's window. */
async function startCall(
  ctx: PanelContext,
  profile: Profile,
  message: ReturnType<typeof messageArea>,
  repaint: (r: CallReadiness | null) => void,
): Promise<void> {
  if (await hasPin()) {
    const ok = await askPinDialog(t('popup.pinLabel', { name: profile.name }));
    if (!ok) return;
  }
  const readiness = await loadReadiness(ctx.api);
  repaint(readiness);
  const mine = readiness?.profiles.find((r) => r.profileId === profile.id);
  if (mine?.block) {
    message.show(t('children.cannotCall', { name: profile.name }), 'error');
    return;
  }
  await openCallWindow(profile.id).catch(() => message.show(t('popup.callWindowFailed'), 'error'));
}

function showList(
  ctx: PanelContext,
  section: HTMLElement,
  profiles: Profile[],
  readiness: CallReadiness | null,
  signal: AbortSignal,
): (r: CallReadiness | null) => void {
  const message = messageArea();
  const nameOf = (id: string) => profiles.find((p) => p.id === id)?.name ?? null;
  const callAreas = new Map<string, HTMLElement>();
  let repaint: (r: CallReadiness | null) => void = () => undefined;
  const callArea = (p: Profile, r: CallReadiness | null): HTMLElement => {
    const mine = r?.profiles.find((x) => x.profileId === p.id);
    if (mine?.block) {
      const reasonId = `call-block-${p.id}`;
      const help = blockHelp(mine.block, (r?.balanceSeconds ?? 0) > 0);
      return h(
        'div',
        { class: 'call-area', 'data-block': mine.block },
        button([phoneIcon(20), ' ', t('children.call')], {
          variant: 'primary',
          class: 'call-child',
          disabled: true,
          'aria-label': t('children.callChild', { name: p.name }),
          'aria-describedby': reasonId,
        }),
        h(
          'p',
          { class: 'call-block', id: reasonId },
          blockLabel(mine, nameOf, r?.live),
          help ? h('span', { class: 'call-help' }, ' ', help) : null,
        ),
      );
    }
    return h(
      'div',
      { class: 'call-area' },
      button([phoneIcon(20), ' ', t('children.call')], {
        variant: 'primary',
        class: 'call-child',
        'aria-label': t('children.callChild', { name: p.name }),
        onclick: () => void startCall(ctx, p, message, repaint),
      }),
    );
  };
  repaint = (r) => {
    if (signal.aborted) return;
    for (const p of profiles) {
      const old = callAreas.get(p.id);
      if (!old) continue;
      const hadFocus = old.contains(document.activeElement);
      const next = callArea(p, r);
      old.replaceWith(next);
      callAreas.set(p.id, next);
      if (hadFocus) next.querySelector<HTMLElement>('button')?.focus();
    }
  };
  const add = button(t('children.add'), {
    variant: 'primary',
    class: 'add-child',
    onclick: () => showForm(ctx, section, null, signal),
  });
  const items = profiles.map((p) => {
    const img = avatar(p.name, null);
    void ctx.photoUrl(p).then((url) => url && img.replaceWith(avatar(p.name, url)));
    const call = callArea(p, readiness);
    callAreas.set(p.id, call);
    const edit = button(t('children.edit'), {
      'aria-label': t('children.editChild', { name: p.name }),
      onclick: () => showForm(ctx, section, p, signal),
    });
    const del = button(t('children.delete'), {
      variant: 'secondary',
      'aria-label': t('children.deleteChild', { name: p.name }),
      onclick: () =>
        void deleteChild(ctx, p).then(
          (gone) => gone && void childrenView(ctx, signal).then((v) => section.replaceWith(v)),
        ),
    });
    return h(
      'li',
      { class: 'card child', 'data-profile': p.id },
      h(
        'div',
        { class: 'child-head' },
        img,
        h(
          'div',
          null,
          h('h3', null, p.name),
          h('p', { class: 'muted' }, formatAge(p.age), ' · ', t(`language.${p.language}`)),
        ),
      ),
      p.dailyMinutes !== null || p.quietHours !== null
        ? h(
            'p',
            { class: 'hint' },
            [
              p.dailyMinutes !== null ? t('children.dailyLimitShort', { minutes: p.dailyMinutes }) : null,
              p.quietHours ? t('children.quietHoursShort', { from: p.quietHours.from, to: p.quietHours.to }) : null,
            ]
              .filter(Boolean)
              .join(' · '),
          )
        : null,
      call,
      h('div', { class: 'actions' }, edit, del),
    );
  });
  mount(
    section,
    h('h2', null, t('children.title')),
    message.root,
    profiles.length === 0 ? h('p', null, t('children.empty')) : h('ul', { class: 'child-list' }, items),
    h('div', { class: 'actions' }, add),
  );
  return repaint;
}

export async function deleteChild(ctx: PanelContext, profile: Profile): Promise<boolean> {
  const ok = await confirmDialog({
    title: t('children.deleteTitle', { name: profile.name }),
    body: h('p', null, t('children.deleteBody')),
    confirmLabel: t('children.deleteConfirm'),
    danger: true,
  });
  if (!ok) return false;
  try {
    await ctx.api.deleteProfile(profile.id);
    await ctx.profiles(true);
    ctx.notify(t('children.deleted', { name: profile.name }));
    return true;
  } catch (err) {
    ctx.notify(describeError(err), 'error');
    return false;
  }
}

const LANG_OPTIONS = (selected: Locale) =>
  LOCALES.map((l) => h('option', { value: l, selected: l === selected }, t(`language.${l}`)));

function showForm(ctx: PanelContext, section: HTMLElement, profile: Profile | null, signal: AbortSignal): void {
  const message = messageArea();
  const name = field({
    label: t('child.name'),
    input: h('input', {
      type: 'text',
      name: 'name',
      maxlength: PROFILE_LIMITS.name,
      required: true,
      value: profile?.name ?? '',
    }),
  });
  const age = field({
    label: t('child.age'),
    input: h('input', {
      type: 'number',
      name: 'age',
      min: PROFILE_LIMITS.minAge,
      max: PROFILE_LIMITS.maxAge,
      required: true,
      value: profile ? String(profile.age) : '',
    }),
    hint: t('child.ageHint', { min: PROFILE_LIMITS.minAge, max: PROFILE_LIMITS.maxAge }),
  });
  const language = field({
    label: t('child.language'),
    input: h('select', { name: 'language' }, LANG_OPTIONS(profile?.language ?? currentLocale())),
    hint: t('child.languageHint'),
  });
  const wishes = field({
    label: t('child.wishList'),
    input: h('textarea', { name: 'wishList', rows: 3, value: profile?.wishList.join('\n') ?? '' }),
    hint: t('child.wishListHint', { max: PROFILE_LIMITS.wishItems }),
  });
  const behavior = field({
    label: t('child.behaviorNotes'),
    input: h('textarea', {
      name: 'behaviorNotes',
      rows: 3,
      maxlength: PROFILE_LIMITS.behaviorNotes,
      value: profile?.behaviorNotes ?? '',
    }),
    hint: t('child.behaviorHint'),
  });
  const prefs = field({
    label: t('child.preferences'),
    input: h('textarea', {
      name: 'preferences',
      rows: 3,
      maxlength: PROFILE_LIMITS.preferences,
      value: profile?.preferences ?? '',
    }),
    hint: t('child.preferencesHint'),
  });

  // Photo: uploaded when chosen (the server keeps an unsaved upload for 24 hours at most).
  let photoId: string | null = profile?.photoId ?? null;
  const photoInput = h('input', { type: 'file', name: 'photo', accept: 'image/jpeg,image/png,image/webp' });
  const photo = fileField({
    label: t('child.photo'),
    input: photoInput,
    hint: t('child.photoHint'),
    chooseLabel: t('child.photoChoose'),
    noneLabel: photoId ? null : t('child.photoNone'),
  });
  const preview = h('div', { class: 'photo-preview' });
  const removePhoto = checkbox(t('child.removePhoto'));
  removePhoto.root.hidden = !photoId;
  if (profile?.photoId)
    void ctx.photoUrl(profile).then((url) => url && mount(preview, avatar(profile.name, url, 'large')));
  photoInput.addEventListener('change', () => {
    const file = photoInput.files?.[0];
    if (!file) return;
    photo.setError(null);
    photo.showChosen(file.name);
    void ctx.api.uploadPhoto(file).then(
      (res) => {
        photoId = res.photoId;
        removePhoto.input.checked = false;
        removePhoto.root.hidden = false;
        const url = URL.createObjectURL(file);
        mount(preview, h('img', { class: 'avatar avatar-large', src: url, alt: t('child.photoPreview') }));
      },
      (err) => {
        photoInput.value = '';
        photo.showChosen(null);
        photo.setError(describeError(err));
      },
    );
  });

  const limit = field({
    label: t('child.dailyMinutes'),
    input: h('input', {
      type: 'number',
      name: 'dailyMinutes',
      min: 1,
      max: 600,
      value: profile?.dailyMinutes ? String(profile.dailyMinutes) : '',
    }),
    hint: t('child.dailyMinutesHint'),
  });
  const quietFrom = field({
    label: t('child.quietFrom'),
    input: h('input', { type: 'time', name: 'quietFrom', value: profile?.quietHours?.from ?? '' }),
  });
  const quietTo = field({
    label: t('child.quietTo'),
    input: h('input', { type: 'time', name: 'quietTo', value: profile?.quietHours?.to ?? '' }),
  });
  // Stored with the controls (the server reads them in this zone only); a new child starts with this browser's zone.
  const timeZone = field({
    label: t('child.timeZone'),
    input: h('input', {
      type: 'text',
      name: 'timeZone',
      autocomplete: 'off',
      spellcheck: 'false',
      value: profile ? (profile.timeZone ?? '') : Intl.DateTimeFormat().resolvedOptions().timeZone,
    }),
    hint: t('child.timeZoneHint'),
  });

  const save = button(profile ? t('child.save') : t('child.create'), { variant: 'primary', type: 'submit' });
  const cancel = button(t('common.cancel'), {
    onclick: () => void childrenView(ctx, signal).then((v) => section.replaceWith(v)),
  });
  const fields: Record<string, Field> = {
    name,
    age,
    language,
    wishList: wishes,
    behaviorNotes: behavior,
    preferences: prefs,
    dailyMinutes: limit,
    quietHours: quietFrom,
    timeZone,
    photoId: photo,
  };

  /** The form as the API takes it. */
  const readBody = (): CreateProfileBody => {
    const from = quietFrom.input.value;
    const to = quietTo.input.value;
    return {
      name: name.input.value,
      age: age.input.value === '' ? Number.NaN : Number(age.input.value),
      language: language.input.value as Locale,
      wishList: wishes.input.value
        .split('\n')
        .map((w) => w.trim())
        .filter(Boolean),
      behaviorNotes: behavior.input.value,
      preferences: prefs.input.value,
      photoId: removePhoto.input.checked ? null : photoId,
      dailyMinutes: limit.input.value === '' ? null : Number(limit.input.value),
      quietHours: from && to ? { from, to } : null,
      timeZone: timeZone.input.value.trim() || null,
    };
  };
  // An error says what was wrong with the value that was sent: once the parent has made that
  // field valid (the shared schema the server checks too), it goes, without waiting for the
  // next save. Only the field being edited is looked at: a refusal of another field stands.
  const clearFixed = (ev: Event) => {
    const entry = Object.entries(fields).find(
      ([key, f]) => f.input === ev.target || (key === 'quietHours' && quietTo.input === ev.target),
    );
    if (!entry) return;
    const [key, f] = entry as [keyof CreateProfileBody & string, Field];
    if (!f.hasError() || key === 'photoId') return;
    if (key === 'quietHours' && Boolean(quietFrom.input.value) !== Boolean(quietTo.input.value)) return;
    if (createProfileBodySchema.shape[key].safeParse(readBody()[key]).success) f.setError(null);
  };

  const form = h(
    'form',
    { novalidate: true },
    name.root,
    h('div', { class: 'row' }, age.root, language.root),
    wishes.root,
    behavior.root,
    prefs.root,
    photo.root,
    preview,
    removePhoto.root,
    h(
      'fieldset',
      null,
      h('legend', null, t('child.controls')),
      h('p', { class: 'hint' }, t('child.controlsHint')),
      limit.root,
      h('div', { class: 'row' }, quietFrom.root, quietTo.root),
      h('p', { class: 'hint' }, t('child.quietHint')),
      timeZone.root,
    ),
    message.root,
    h('div', { class: 'actions' }, cancel, save),
  );

  form.addEventListener('input', clearFixed);
  form.addEventListener('change', clearFixed);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    for (const f of Object.values(fields)) f.setError(null);
    message.clear();
    const from = quietFrom.input.value;
    const to = quietTo.input.value;
    if (Boolean(from) !== Boolean(to)) {
      quietFrom.setError(t('child.quietBoth'));
      quietFrom.input.focus();
      return;
    }
    const body = readBody();
    void busy(save, async () => {
      try {
        const saved = profile ? await ctx.api.patchProfile(profile.id, body) : await ctx.api.createProfile(body);
        await ctx.profiles(true);
        ctx.notify(profile ? t('child.saved', { name: saved.name }) : t('child.created', { name: saved.name }));
        const list = await childrenView(ctx, signal);
        section.replaceWith(list);
        focusHeading(list);
      } catch (err) {
        if (err instanceof ApiError && err.fields) {
          let first: Field | null = null;
          for (const [key, code] of Object.entries(err.fields)) {
            const name = key.split('.')[0] ?? '';
            const f = fields[name];
            if (!f) continue;
            // The code says what is wrong (too_big, too_small ...); the words say how to fix that field.
            f.setError(t(`child.invalid.${name}` as 'child.invalid.name'));
            f.input.dataset.errorCode = code;
            first ??= f;
          }
          if (first) first.input.focus();
          else message.show(describeError(err), 'error');
        } else message.show(describeError(err), 'error');
      }
    });
  });

  mount(
    section,
    h('h2', null, profile ? t('child.editTitle', { name: profile.name }) : t('child.addTitle')),
    h('p', { class: 'hint' }, t('child.privacyNote')),
    form,
  );
  focusHeading(section);
}
