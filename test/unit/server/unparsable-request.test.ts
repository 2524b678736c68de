import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { answerUnparsableRequest } from '../../../src/server/unparsable-request.js';

/** A socket stand-in that records what is written and whether it was destroyed. */
function fakeSocket(): { socket: PassThrough; written: () => string } {
  const socket = new PassThrough();
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { socket, written: () => Buffer.concat(chunks).toString('utf8') };
}

function parserError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error('parse error'), { code });
}

describe('server/unparsable-request', () => {
  it('answers a parser error with 400, a problem+json body of the right length, and closes', async () => {
    const { socket, written } = fakeSocket();
    answerUnparsableRequest(parserError('HPE_INVALID_METHOD'), socket);
    await new Promise((resolve) => socket.on('end', resolve));
    const [head, body] = written().split('\r\n\r\n') as [string, string];
    expect(head).to.match(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(head).to.include('content-type: application/problem+json');
    expect(head).to.include('connection: close');
    expect(head).to.include(`content-length: ${Buffer.byteLength(body)}`);
    expect(JSON.parse(body)).to.deep.equal({ type: 'urn:keybroker:error:bad-request', title: 'Bad request', status: 400, detail: 'the request is not valid HTTP/1.1' });
  });

  it('says so when the headers were too large', async () => {
    const { socket, written } = fakeSocket();
    answerUnparsableRequest(parserError('HPE_HEADER_OVERFLOW'), socket);
    await new Promise((resolve) => socket.on('end', resolve));
    expect(written()).to.include('"detail":"request headers are too large"');
  });

  it('only closes the connection on other errors (a reset, a timeout)', () => {
    for (const code of ['ECONNRESET', 'ERR_HTTP_REQUEST_TIMEOUT']) {
      const { socket, written } = fakeSocket();
      answerUnparsableRequest(parserError(code), socket);
      expect(socket.destroyed, code).to.equal(true);
      expect(written(), code).to.equal('');
    }
  });
});
