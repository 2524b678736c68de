/** Storage one contract test runs on; each `open()` is another process or replica over the same data. */
export interface Backing<Handle> {
  open(): Promise<Handle>;
  /** True when several processes may use the storage at once (PostgreSQL); the file adapters serve one process. */
  sharedByProcesses: boolean;
  dispose(): Promise<void>;
}

export interface TestBacking<Handle> {
  /** The current test's backing. */
  current(): Backing<Handle>;
  /** Opens a handle on the current backing; every handle is closed after the test. */
  open(): Promise<Handle>;
  /** Closes `handle` and opens another: the same storage seen by a new process. */
  reopen(handle: Handle): Promise<Handle>;
}

/**
 * Inside a contract's `describe`: each test gets fresh storage from `fresh`, and after the test its handles are
 * closed and the storage disposed.
 */
export function useFreshBacking<Handle extends { close(): Promise<void> }>(fresh: () => Promise<Backing<Handle>>): TestBacking<Handle> {
  let backing: Backing<Handle> | undefined;
  const opened: Handle[] = [];
  beforeEach(async () => {
    backing = await fresh();
  });
  afterEach(async () => {
    for (const handle of opened.splice(0)) await handle.close();
    await backing?.dispose();
    backing = undefined;
  });
  const current = (): Backing<Handle> => {
    if (!backing) throw new Error('contract: no backing outside a test');
    return backing;
  };
  const open = async (): Promise<Handle> => {
    const handle = await current().open();
    opened.push(handle);
    return handle;
  };
  return {
    current,
    open,
    reopen: async (handle) => {
      await handle.close();
      opened.splice(opened.indexOf(handle), 1);
      return open();
    },
  };
}
