import { ConfigError } from '../config/load-config.js';
import { KbsClientError } from '../client/https-request.js';
import { adminCommand } from './admin-commands.js';
import { auditCommand } from './audit-commands.js';
import { caCommand } from './ca-commands.js';
import { certCommand } from './cert-show.js';
import { CliError } from './cli-error.js';
import { clientCommand } from './client-commands.js';
import { evidenceCommand } from './evidence-commands.js';
import { serve } from './serve.js';
import { messageOf } from '../domain/errors.js';

const USAGE = `usage: keybroker <command>
  serve [--dev] [--config FILE]                       run the broker
  ca init [--root-offline --root-out DIR] | status [--json]   create or inspect the CA under $KEYBROKER_HOME/ca
  ca prepare [--if-due] | activate [ID] [--if-due] | retire [ID] | taint ID | revoke ID  [--json]
                                                      issuer lifecycle; exit 3: refused by the state machine, 4: CA busy
  ca request-issuer [--out CSR] | sign-issuer --root DIR --csr CSR --out CERT | import-issuer --cert CERT
                                                      rotation with an offline root (scripts/ca-rotate.sh)
  ca issue-admin --name N --out DIR                   an admin client certificate (key.pem, cert.pem, chain.pem)
  ca issue-server --dns NAME --ip ADDR --out DIR      a TLS server certificate signed by the root
  client attest --url URL --tee T --out DIR [--cacert FILE] [--key-type ec-p256|ec-p384|ed25519|rsa-3072]
                [--attester sample|tsm|auto] [--tsm-root DIR] [--json]
  client get --url URL --cert-dir DIR [--cacert FILE] [--json] repo/type/tag
  client attest|get ... --protocol v0                 the same through the trustee protocol: token.jwt and key.pem in DIR
  admin set-resource|delete-resource --url URL --admin DIR [--cacert FILE] repo/type/tag  (value on stdin or --file F)
  admin list-resources --url URL --admin DIR [--cacert FILE] [--prefix P]
  admin revoke --url URL --admin DIR [--cacert FILE] [--reason R] SERIAL   revoke an issued certificate
  admin list-certificates --url URL --admin DIR [--cacert FILE] [--issuer ID] [--status S] [--limit N]
  cert show FILE                                      print a certificate with its attestation claims decoded
  admin get-policy --url URL --admin DIR [--cacert FILE] [--version N] attestation|resource
  admin set-policy --url URL --admin DIR [--cacert FILE] [--file F] attestation|resource  (JSON, or CEL for attestation)
  audit verify [--from N] [--file F | --database URL] [--json]  check the audit log's hash chain; exit 1 at the first broken record
  evidence verify --tee snp|tdx --evidence FILE [--certs FILE ...] [--collateral DIR] [--at RFC3339]
                  [--report-data HEX | --nonce N --spki FILE] [--json] [--config FILE]   verify evidence offline
`;

/** Runs one CLI command and returns its exit code: 0 success, 1 failure, 2 usage. One clear line on stderr otherwise. */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case 'serve': return await serve(rest);
      case 'ca': return await caCommand(rest);
      case 'client': return await clientCommand(rest);
      case 'admin': return await adminCommand(rest);
      case 'cert': return await certCommand(rest);
      case 'audit': return await auditCommand(rest);
      case 'evidence': return await evidenceCommand(rest);
      case undefined: case 'help': case '--help': case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`keybroker: unknown command "${command}"\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`keybroker: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof ConfigError || error instanceof KbsClientError) {
      process.stderr.write(`keybroker: ${error.message}\n`);
      return 1;
    }
    const message = messageOf(error);
    process.stderr.write(`keybroker: ${message}\n`);
    return 1;
  }
}
