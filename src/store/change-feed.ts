/**
 * Change notifications between replicas: a generic channel of (topic, key) pairs, such as ("resource", path).
 * Adapters that share state across processes publish on it; per-replica caches subscribe to drop what changed.
 */
export interface ChangeSubscriber {
  /** The item `key` of the topic changed (or was deleted) somewhere. */
  changed(key: string): void;
  /** Notifications may have been missed (the feed reconnected): forget everything of the topic. */
  resync(): void;
}

export interface ChangeFeed {
  /** Returns a function that ends the subscription. */
  subscribe(topic: string, subscriber: ChangeSubscriber): () => void;
}

/** Topics in use; later ports add theirs here (revocation, policy, ...). */
export const RESOURCE_TOPIC = 'resource';
/** Key: the policy kind that got a new version. */
export const POLICY_TOPIC = 'policy';
/** Key: the serial of a newly revoked certificate. */
export const REVOCATION_TOPIC = 'revocation';
/** Key: the id of an issuing CA that was recorded or changed state. */
export const CA_TOPIC = 'ca';
/** Key: the purpose of a newly published key. */
export const PUBLISHED_KEY_TOPIC = 'published-key';

/** Subscribers by topic, for a feed implementation to dispatch to. */
export class ChangeSubscribers implements ChangeFeed {
  private readonly byTopic = new Map<string, Set<ChangeSubscriber>>();

  subscribe(topic: string, subscriber: ChangeSubscriber): () => void {
    const subscribers = this.byTopic.get(topic) ?? new Set();
    subscribers.add(subscriber);
    this.byTopic.set(topic, subscribers);
    return () => void subscribers.delete(subscriber);
  }

  changed(topic: string, key: string): void {
    for (const subscriber of this.byTopic.get(topic) ?? []) subscriber.changed(key);
  }

  resyncAll(): void {
    for (const subscribers of this.byTopic.values()) for (const subscriber of subscribers) subscriber.resync();
  }
}
