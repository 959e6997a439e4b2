// Bindings that exist only in the test configuration (vitest.config.ts).
declare namespace Cloudflare {
  interface Env {
    /** A queue consumed by test/support/queue-recorder.js instead of the dispatcher. */
    RECORDED_QUEUE: Queue;
    /** The recorder's fetch handler: GET returns every message it received. */
    QUEUE_RECORDER: Fetcher;
  }
}
