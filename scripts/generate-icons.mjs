#!/usr/bin/env node
// Renders the extension's toolbar and store icons from extension/assets/icon.svg into
// extension/public/icon/<size>.png (WXT adds them to the manifest). The PNGs are committed;
// run this again after changing the SVG.
import { mkdirSync, readFileSync } from 'node:fs';
import sharp from 'sharp';

const root = new URL('..', import.meta.url).pathname;
const svg = readFileSync(`${root}extension/assets/icon.svg`);
mkdirSync(`${root}extension/public/icon`, { recursive: true });
for (const size of [16, 32, 48, 96, 128]) {
  await sharp(svg, { density: Math.max(72, (72 * size) / 128) * 4 })
    .resize(size, size)
    .png({ compressionLevel: 9, palette: size <= 48 })
    .toFile(`${root}extension/public/icon/${size}.png`);
  console.log(`extension/public/icon/${size}.png`);
}
