// Shared by the profile and photo tests: real images made with sharp, and store snapshots.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ApiClient, TestServer } from '../../test/support/server.js';
import type { PhotoRow, ProfileRow } from '../store/types.js';

/** Text that must never be found in the clear: it is in the EXIF of the test images. */
export const EXIF_MARKER = 'SecretCam-7731';

const GPS_EXIF = {
  IFD0: { Make: EXIF_MARKER, Copyright: 'Home of the family' },
  IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '55/1 40/1 3/1', GPSLongitudeRef: 'E', GPSLongitude: '12/1 34/1 5/1' },
};

function canvas(width: number, height: number) {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 40 } } });
}

/** A PNG carrying EXIF with GPS coordinates. */
export async function pngWithGps(width = 64, height = 48): Promise<Buffer> {
  return canvas(width, height).withExif(GPS_EXIF).png().toBuffer();
}

/** A JPEG carrying EXIF with GPS coordinates. */
export async function jpegWithGps(width = 64, height = 48): Promise<Buffer> {
  return canvas(width, height).withExif(GPS_EXIF).jpeg().toBuffer();
}

export async function webp(width = 32, height = 32): Promise<Buffer> {
  return canvas(width, height).webp().toBuffer();
}

/** Random pixels compress badly, so this PNG is close to the 2 MB limit while being a real image. */
export async function noisePng(width: number, height: number): Promise<Buffer> {
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
}

export function upload(api: ApiClient, token: string, bytes: Buffer | string, contentType: string) {
  return api.request('POST', '/api/photos', { token, raw: bytes, headers: { 'content-type': contentType } });
}

/** Upload a small PNG and return its temporary id. */
export async function uploadPhoto(api: ApiClient, token: string): Promise<string> {
  const res = await upload(api, token, await pngWithGps(), 'image/png');
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.photoId as string;
}

export async function getPhoto(
  server: TestServer,
  token: string,
  profileId: string,
): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const res = await fetch(`${server.url}/api/profiles/${profileId}/photo`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

export interface AccountSnapshot {
  profiles: ProfileRow[];
  photos: PhotoRow[];
  files: string[];
}

/** What the store holds for one account, plus every photo file: compared before and after a refused request. */
export async function snapshot(server: TestServer, accountId: string): Promise<AccountSnapshot> {
  const store = server.app.store;
  const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
  return {
    profiles: (await store.profiles.findBy('accountId', accountId)).sort(byId),
    photos: (await store.photos.findBy('accountId', accountId)).sort(byId),
    files: (await store.photoFiles.list()).sort(),
  };
}

/** Every file under a folder, recursively, as bytes. */
export function readAllFiles(dir: string): { path: string; bytes: Buffer }[] {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...readAllFiles(path));
    else out.push({ path, bytes: readFileSync(path) });
  }
  return out;
}

/** Whether the store still holds the photo's (sealed) bytes: through the Store API, so on either store. */
export async function photoStored(server: TestServer, photoId: string): Promise<boolean> {
  return (await server.app.store.photoFiles.get(photoId)) !== undefined;
}
