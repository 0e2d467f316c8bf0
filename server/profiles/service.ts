import type { Clock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import { conflict, notFound } from '../core/errors.js';
import type { CreateProfileBody, PatchProfileBody, Profile } from '../../shared/schemas/profile.js';
import type { ExportDocument } from '../../shared/schemas/privacy.js';
import { toIso } from '../../shared/units.js';
import type { ProfileRow, Store } from '../store/types.js';
import type { AuditService } from '../audit/service.js';
import type { PhotosService, PhotoMime } from '../photos/service.js';
import { oldestFirst } from '../core/order.js';

/** What profiles need from consent: no child data before explicit consent (P5). */
export interface ConsentGate {
  requireConsent(accountId: string): Promise<void>;
}

/** What profiles need from the calls module: a deleted child's past calls lose their link to it. */
export interface ProfileCallsPort {
  detachProfile(profileId: string): Promise<void>;
}

export const MAX_PROFILES_PER_ACCOUNT = 12;

/** The wire shape (DESIGN.md §8): no account id, no timestamps. */
export function toView(row: ProfileRow): Profile {
  return {
    id: row.id,
    name: row.name,
    age: row.age,
    wishList: [...row.wishList],
    behaviorNotes: row.behaviorNotes,
    preferences: row.preferences,
    language: row.language,
    photoId: row.photoId,
    dailyMinutes: row.dailyMinutes,
    quietHours: row.quietHours ? { ...row.quietHours } : null,
    timeZone: row.timeZone ?? null,
  };
}

const noSuchProfile = () => notFound('No such profile');

export interface ProfilesDeps {
  store: Store;
  clock: Clock;
  audit: AuditService;
  consent: ConsentGate;
  photos: PhotosService;
  calls: ProfileCallsPort;
  maxPerAccount?: number;
}

/**
 * Child profiles (P6-P9). Bodies arrive already parsed by the shared schemas, which cap
 * lengths, strip control characters, bound the age to 3-12 and refuse unknown fields.
 * Another account's profile is indistinguishable from a missing one.
 */
export class ProfilesService {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly audit: AuditService;
  private readonly consent: ConsentGate;
  private readonly photos: PhotosService;
  private readonly calls: ProfileCallsPort;
  private readonly maxPerAccount: number;

  constructor(deps: ProfilesDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.audit = deps.audit;
    this.consent = deps.consent;
    this.photos = deps.photos;
    this.calls = deps.calls;
    this.maxPerAccount = deps.maxPerAccount ?? MAX_PROFILES_PER_ACCOUNT;
  }

  readonly toView = toView;

  /** The account's profile, or 404 (the same for another account's id as for a missing one). */
  async get(accountId: string, profileId: string): Promise<ProfileRow> {
    const row = await this.store.profiles.get(profileId);
    if (!row || row.accountId !== accountId) throw noSuchProfile();
    return row;
  }

  /** The account's profile, or undefined when it is missing or another account's. */
  async find(accountId: string, profileId: string): Promise<ProfileRow | undefined> {
    const row = await this.store.profiles.get(profileId);
    return row && row.accountId === accountId ? row : undefined;
  }

  async listRows(accountId: string): Promise<ProfileRow[]> {
    return (await this.store.profiles.findBy('accountId', accountId)).sort(oldestFirst('createdAt'));
  }

  async list(accountId: string): Promise<Profile[]> {
    return (await this.listRows(accountId)).map(toView);
  }

  async create(accountId: string, body: CreateProfileBody): Promise<ProfileRow> {
    await this.consent.requireConsent(accountId);
    const id = newId();
    // Every check that can refuse runs before the first write, so a refusal changes nothing.
    if ((await this.store.profiles.findBy('accountId', accountId)).length >= this.maxPerAccount) throw this.full();
    if (body.photoId) await this.photos.assertClaimable(accountId, body.photoId, id);
    const now = this.clock.now();
    const row: ProfileRow = {
      id,
      accountId,
      name: body.name,
      age: body.age,
      wishList: body.wishList,
      behaviorNotes: body.behaviorNotes,
      preferences: body.preferences,
      language: body.language,
      photoId: body.photoId,
      dailyMinutes: body.dailyMinutes,
      quietHours: body.quietHours,
      timeZone: body.timeZone,
      createdAt: now,
      updatedAt: now,
    };
    // The cap is decided atomically with the insert, so parallel creates cannot pass it.
    const inserted = await this.store.profiles.insertIf(
      row,
      { field: 'accountId', value: accountId },
      (rows) => rows.length < this.maxPerAccount,
    );
    if (!inserted) throw this.full();
    if (body.photoId) {
      try {
        await this.photos.claim(accountId, body.photoId, id);
      } catch (err) {
        // The photo was claimed or expired in between: undo the insert.
        await this.store.profiles.remove(id);
        throw err;
      }
    }
    return inserted;
  }

  /** `body` without `id`: the route has matched it against the path and dropped it. */
  async update(accountId: string, profileId: string, body: Omit<PatchProfileBody, 'id'>): Promise<ProfileRow> {
    const current = await this.get(accountId, profileId);
    const newPhoto =
      body.photoId !== undefined && body.photoId !== null && body.photoId !== current.photoId ? body.photoId : null;
    if (newPhoto) {
      await this.photos.assertClaimable(accountId, newPhoto, profileId);
      await this.photos.claim(accountId, newPhoto, profileId);
    }
    const patch: Partial<Omit<ProfileRow, 'id'>> = { updatedAt: this.clock.now() };
    for (const key of [
      'name',
      'age',
      'wishList',
      'behaviorNotes',
      'preferences',
      'language',
      'photoId',
      'dailyMinutes',
      'quietHours',
      'timeZone',
    ] as const) {
      if (body[key] !== undefined) (patch as Record<string, unknown>)[key] = body[key];
    }
    const updated = await this.store.profiles.update(profileId, patch, { if: (c) => c.accountId === accountId });
    if (!updated) {
      // Deleted while we worked: the photo just claimed belongs to nothing.
      if (newPhoto) await this.photos.remove(newPhoto);
      throw noSuchProfile();
    }
    // Replacing or removing the photo deletes the old file at once.
    if (body.photoId !== undefined && current.photoId && current.photoId !== updated.photoId)
      await this.photos.remove(current.photoId);
    return updated;
  }

  /**
   * Delete a profile at once (P9): its photo file and row, then the profile. Past call
   * records keep only an anonymous reference (profileId null). The audit entry holds ids only.
   */
  async delete(accountId: string, profileId: string, actor = `account:${accountId}`): Promise<void> {
    const row = await this.get(accountId, profileId);
    await this.erase(row, actor);
    // "Gone at once" (P9) holds for the files too, not only for what the API shows.
    await this.store.compact();
  }

  /** Every profile of the account (account deletion). Returns how many were deleted. */
  async deleteAllForAccount(accountId: string, actor = 'system'): Promise<number> {
    const rows = await this.listRows(accountId);
    for (const row of rows) await this.erase(row, actor);
    // Temporary uploads of the account go too.
    await this.photos.deleteAllForAccount(accountId);
    // No compact here: its callers (account closure, the retention sweep) compact once when done.
    return rows.length;
  }

  /**
   * The account's part of the data export (P11): each profile as the API shows it, with its
   * timestamps and its photo, and the uploads not (yet) saved to a profile; oldest first.
   */
  async exportFor(accountId: string): Promise<Pick<ExportDocument, 'profiles' | 'temporaryPhotos'>> {
    const [rows, photos] = await Promise.all([this.listRows(accountId), this.photos.exportFor(accountId)]);
    const photoById = new Map(photos.map((p) => [p.row.id, p.view]));
    const savedPhotoIds = new Set(rows.map((p) => p.photoId).filter((id): id is string => id !== null));
    return {
      profiles: rows.map((p) => ({
        ...toView(p),
        createdAt: toIso(p.createdAt),
        updatedAt: toIso(p.updatedAt),
        photo: (p.photoId ? photoById.get(p.photoId) : undefined) ?? null,
      })),
      temporaryPhotos: photos
        .filter((p) => !savedPhotoIds.has(p.row.id) && p.row.profileId === null)
        .sort((a, b) => a.row.createdAt - b.row.createdAt || a.row.id.localeCompare(b.row.id))
        .map((p) => p.view),
    };
  }

  /** The profile's photo, for its owner only; 404 when the profile is not theirs or has none. */
  async photo(accountId: string, profileId: string): Promise<{ mime: PhotoMime; bytes: Buffer }> {
    const row = await this.get(accountId, profileId);
    if (!row.photoId) throw notFound('This profile has no photo');
    return this.photos.read(accountId, row.photoId);
  }

  private async erase(row: ProfileRow, actor: string): Promise<void> {
    if (row.photoId) await this.photos.remove(row.photoId);
    // A photo saved to this profile under another id (a crash mid-replace) goes too.
    await this.photos.removeForProfile(row.id);
    await this.store.profiles.remove(row.id);
    await this.calls.detachProfile(row.id);
    await this.audit.record(actor, 'profile.deleted', row.accountId, { profileId: row.id });
  }

  private full() {
    return conflict('conflict', `An account can keep at most ${this.maxPerAccount} child profiles`);
  }
}
