// A webhook receiver on loopback: verifies each delivery's Standard Webhooks signature and
// keeps the events, so the soak can check that every ended job was announced once.
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

export async function startReceiver() {
  let verifier = null;
  const events = new Map(); // webhook-id -> event
  const tally = { received: 0, redelivered: 0, forged: 0 };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      tally.received += 1;
      const body = Buffer.concat(chunks).toString('utf8');
      let event;
      try {
        event = verifier.verify(body, req.headers);
      } catch {
        tally.forged += 1;
        res.writeHead(400).end();
        return;
      }
      const id = req.headers['webhook-id'];
      if (events.has(id)) tally.redelivered += 1;
      else events.set(id, event);
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks`,
    /** The endpoint's secret, known once the platform has registered it. */
    trust(secret) {
      verifier = new Webhook(secret);
    },
    /** Job events by job id: every distinct delivery, so a job announced twice shows twice. */
    jobEvents() {
      const byJob = new Map();
      for (const event of events.values()) {
        if (!event.type?.startsWith('job.')) continue;
        const list = byJob.get(event.data.job_id) ?? [];
        list.push(event);
        byJob.set(event.data.job_id, list);
      }
      return byJob;
    },
    tally,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
