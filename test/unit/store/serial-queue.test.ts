import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { SerialQueue } from '../../../src/store/fs/serial-queue.js';

describe('SerialQueue', () => {
  it('runs tasks of one key one after another, in call order', async () => {
    const queue = new SerialQueue();
    const events: string[] = [];
    const task = (name: string, ms: number) => async () => {
      events.push(`start ${name}`);
      await sleep(ms);
      events.push(`end ${name}`);
      return name;
    };
    const results = await Promise.all([queue.run('k', task('a', 20)), queue.run('k', task('b', 1)), queue.run('k', task('c', 5))]);
    expect(results).to.deep.equal(['a', 'b', 'c']);
    expect(events).to.deep.equal(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('runs tasks of different keys concurrently', async () => {
    const queue = new SerialQueue();
    const events: string[] = [];
    const task = (name: string, ms: number) => async () => {
      events.push(`start ${name}`);
      await sleep(ms);
      events.push(`end ${name}`);
    };
    await Promise.all([queue.run('x', task('x', 20)), queue.run('y', task('y', 1))]);
    expect(events).to.deep.equal(['start x', 'start y', 'end y', 'end x']);
  });

  it('goes on with the next task after one fails, and passes the failure to its caller', async () => {
    const queue = new SerialQueue();
    const failing = queue.run('k', async () => {
      throw new Error('boom');
    });
    const next = queue.run('k', async () => 'after');
    let failure: unknown;
    try {
      await failing;
    } catch (error) {
      failure = error;
    }
    expect(failure).to.have.property('message', 'boom');
    expect(await next).to.equal('after');
  });
});
