// A workload in a TEE: attest once, then keep fetching a secret while the certificate renews itself.
// usage: node examples/fetch-secret.mjs URL CA_BUNDLE_FILE REPOSITORY/TYPE/TAG [COUNT] [INTERVAL_MS]
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { attest } from 'keybroker/client';

const [url, caFile, path, count = '10', intervalMs = '1000'] = process.argv.slice(2);
const session = await attest({ url, tee: 'sample', ca: readFileSync(caFile, 'utf8') });
session.on('renewed', ({ serial }) => console.log(`renewed: certificate ${serial}`));
for (let i = 0; i < Number(count); i++) {
  const secret = await session.getResource(path);
  // Print a digest, never the secret itself.
  console.log(`fetched ${path}: sha256 ${createHash('sha256').update(secret).digest('hex')} with certificate ${session.serial}`);
  await sleep(Number(intervalMs));
}
await session.close();
