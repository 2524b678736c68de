import { ConfigError } from './config-error.js';
import { describeValue, type ValueReader } from './config-values.js';

type Table = Record<string, unknown>;

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** One `[section]` of the config file. It remembers which keys were read, so the rest can be reported as unknown. */
export class ConfigSection {
  private readonly known = new Set<string>();

  constructor(
    readonly name: string,
    private readonly table: Table,
  ) {}

  /** The key's value through `reader`, or undefined when the file does not set it. */
  optional<T>(key: string, reader: ValueReader<T>): T | undefined {
    this.known.add(key);
    return Object.hasOwn(this.table, key) ? reader(this.table[key], `[${this.name}] ${key}`) : undefined;
  }

  rejectUnknownKeys(): void {
    const unknown = Object.keys(this.table).find((key) => !this.known.has(key));
    if (unknown !== undefined) {
      throw new ConfigError(`[${this.name}] ${unknown}`, `unknown key (known: ${[...this.known].join(', ')})`);
    }
  }
}

/** The parsed config file, split into the sections keybroker knows; anything else is refused. */
export class ConfigDocument {
  private readonly sections = new Map<string, ConfigSection>();

  constructor(document: Table, sectionNames: readonly string[]) {
    const listed = sectionNames.map((name) => `[${name}]`).join(', ');
    for (const [name, value] of Object.entries(document)) {
      if (!sectionNames.includes(name)) {
        const problem = isTable(value) ? 'unknown section' : 'unknown top-level key; settings belong in a section';
        throw new ConfigError(isTable(value) ? `[${name}]` : name, `${problem} (known: ${listed})`);
      }
      if (!isTable(value)) throw new ConfigError(`[${name}]`, `must be a table, got ${describeValue(value)}`);
    }
    for (const name of sectionNames) {
      const value = document[name];
      this.sections.set(name, new ConfigSection(name, isTable(value) ? value : {}));
    }
  }

  section(name: string): ConfigSection {
    const section = this.sections.get(name);
    if (section === undefined) throw new Error(`config section [${name}] was not declared`);
    return section;
  }

  /** Call after every setting was read. */
  rejectUnknownKeys(): void {
    for (const section of this.sections.values()) section.rejectUnknownKeys();
  }
}
