// A guest that must speak trustee's protocol (v0): attest for a token, fetch a secret encrypted to its TEE key.
// usage: node examples/fetch-secret-v0.mjs URL CA_BUNDLE_FILE REPOSITORY/TYPE/TAG
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { attest } from 'keybroker/client';

const [url, caFile, path] = process.argv.slice(2);
const session = await attest({ url, tee: 'sample', ca: readFileSync(caFile, 'utf8'), protocol: 'v0', keyType: 'ec-p384' });
const secret = await session.getResource(path);
// Print a digest, never the secret itself.
console.log(`fetched ${path}: sha256 ${createHash('sha256').update(secret).digest('hex')} with token ${session.serial}`);
await session.close();
