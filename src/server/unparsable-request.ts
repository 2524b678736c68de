import type { Duplex } from 'node:stream';
import { KbsError } from '../domain/errors.js';
import { PROBLEM_CONTENT_TYPE, problemJson } from './problem.js';

/**
 * Node's HTTP parser refuses some requests (a bad request line or header, headers over its limit) before Koa
 * sees them, and by default answers with a bare status line; this answers them with a problem body too.
 * Anything else (a reset, a timeout) just closes the connection.
 */
export function answerUnparsableRequest(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!error.code?.startsWith('HPE_') || !socket.writable) {
    socket.destroy();
    return;
  }
  const detail = error.code === 'HPE_HEADER_OVERFLOW' ? 'request headers are too large' : 'the request is not valid HTTP/1.1';
  const body = problemJson(new KbsError('bad-request', detail));
  socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
