// An auxiliary worker that consumes the intake tests' queue and keeps what arrived, so tests can assert on the
// messages the real local Queue delivered. Plain JavaScript: auxiliary workers are not bundled by Vite.
const received = [];

export default {
  async queue(batch) {
    for (const message of batch.messages) {
      received.push({ id: message.id, body: message.body });
      message.ack();
    }
  },
  async fetch() {
    return Response.json(received);
  },
};
