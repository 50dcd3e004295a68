// Load test of Realtime through Kong: LOADTEST_VUS concurrent websocket connections (10,000 in
// production), each a virtual user that opens /realtime/v1/websocket with the anon key, joins a
// broadcast channel realtime:loadtest-<run>-<n>, heartbeats every 25 s and stays connected for
// LOADTEST_SESSION_SECONDS before reconnecting. The virtual users are grouped into channels of
// LOADTEST_CHANNEL_SIZE; the first of each group (one VU in LOADTEST_CHANNEL_SIZE) broadcasts
// every LOADTEST_BROADCAST_INTERVAL_SECONDS, and every other member must receive those
// broadcasts. The run fails when the p95 of the join round trip passes LOADTEST_P95_MS or the
// share of failed sessions (no join, socket error, no broadcast received) passes
// LOADTEST_MAX_ERROR_RATE.
//
// Realtime's tenant limits bound what this can reach: per channel TENANT_MAX_CONCURRENT_USERS
// (200 by default, hence channels of 100), per tenant TENANT_MAX_JOINS_PER_SECOND (100: 10,000
// connections need a ramp of 2 minutes or more and sessions of 100 s or more) and
// TENANT_MAX_EVENTS_PER_SECOND (100). Errors such as too_many_joins show in the failed-join log.
import { check, sleep } from 'k6';
import { Counter, Rate, Trend } from 'k6/metrics';
import ws, { type Response as SocketResponse } from 'k6/ws';
import { ANON_KEY, BASE_URL, RUN_ID, baseOptions, limitsFromEnv, loadFromEnv, p95Below, rampingScenario, rateBelow, wholeNumberFrom } from './lib/config.ts';
import { broadcast, broadcastOf, decode, encode, heartbeat, join, leave, replyStatus, socketUrl } from './lib/phoenix.ts';

const load = loadFromEnv();
const limits = limitsFromEnv();
const channelSize = wholeNumberFrom('LOADTEST_CHANNEL_SIZE', 2);
const intervalSeconds = wholeNumberFrom('LOADTEST_BROADCAST_INTERVAL_SECONDS', 1);
const sessionSeconds = wholeNumberFrom('LOADTEST_SESSION_SECONDS', 30);
if (sessionSeconds < 3 * intervalSeconds) {
  throw new Error(`LOADTEST_SESSION_SECONDS=${sessionSeconds} must be at least three broadcast intervals (${3 * intervalSeconds}): a session must see broadcasts to be judged`);
}
const HEARTBEAT_MS = 25_000;
const BROADCAST_EVENT = 'loadtest';

const joinDuration = new Trend('realtime_join_duration', true);
const broadcastLatency = new Trend('realtime_broadcast_latency', true);
const failures = new Rate('realtime_failures');
const sent = new Counter('realtime_broadcasts_sent');
const received = new Counter('realtime_broadcasts_received');

export const options = baseOptions(
  'realtime',
  // A virtual user past the ramp-down target finishes its session (and its checks) first.
  rampingScenario(load, `${sessionSeconds + 30}s`),
  {
    realtime_join_duration: p95Below(limits),
    realtime_failures: rateBelow(limits),
  },
);

export default function (): void {
  const index = __VU - 1;
  const topic = `realtime:loadtest-${RUN_ID}-${Math.floor(index / channelSize)}`;
  const sender = index % channelSize === 0;
  let ref = 0;
  const nextRef = () => String(++ref);
  let joinRef = '';
  let joinSentAt = 0;
  let joined = false;
  let joinError = '';
  let socketError = '';
  let receivedHere = 0;
  let leaving = false;
  const openedAt = Date.now();

  const params = { tags: { name: 'realtime-websocket' } };
  let res: SocketResponse | undefined;
  try {
    res = ws.connect(socketUrl(BASE_URL, ANON_KEY), params, (socket) => {
      socket.on('open', () => {
        joinRef = nextRef();
        joinSentAt = Date.now();
        socket.send(encode(join(topic, joinRef, ANON_KEY)));
        socket.setInterval(() => socket.send(encode(heartbeat(nextRef()))), HEARTBEAT_MS);
        if (sender) {
          socket.setInterval(() => {
            if (!joined) return;
            socket.send(encode(broadcast(topic, nextRef(), joinRef, BROADCAST_EVENT, { sent_at: Date.now(), from: __VU })));
            sent.add(1);
          }, intervalSeconds * 1000);
        }
        socket.setTimeout(() => {
          leaving = true;
          if (joined) socket.send(encode(leave(topic, nextRef(), joinRef)));
          socket.close();
        }, sessionSeconds * 1000);
      });

      socket.on('message', (text) => {
        const message = decode(text);
        if (!message) return;
        if (message.event === 'phx_reply' && message.ref === joinRef && message.topic === topic) {
          const reply = replyStatus(message);
          if (reply.status === 'ok') {
            joined = true;
            joinDuration.add(Date.now() - joinSentAt);
          } else {
            joinError = reply.reason ?? reply.status;
            socket.close();
          }
          return;
        }
        if (message.topic !== topic) return;
        if (message.event === 'phx_error' || (message.event === 'phx_close' && !leaving)) {
          if (!socketError) socketError = `channel ${message.event}`;
          return;
        }
        const delivered = broadcastOf(message);
        if (delivered?.event === BROADCAST_EVENT && typeof delivered.payload.sent_at === 'number') {
          receivedHere++;
          received.add(1);
          broadcastLatency.add(Date.now() - delivered.payload.sent_at);
        }
      });

      socket.on('error', (e) => {
        if (!socketError && !leaving) socketError = e.error();
      });
    });
  } catch (e) {
    // The upgrade itself failed (refused, reset, TLS): the checks below count it.
    socketError = String(e);
  }

  const lasted = (Date.now() - openedAt) / 1000;
  // A receiver whose session ended early (the socket dropped) had no fair chance: the socket
  // check counts that failure; the receipt check judges only sessions that ran their course.
  const ranItsCourse = lasted >= sessionSeconds - 1;
  const ok = check(res, { 'websocket upgraded (101)': (r) => r !== undefined && r.status === 101 });
  const joinedOk = check(joinError, { 'channel joined': () => joined });
  const socketOk = check(socketError, { 'no socket or channel error': (e) => e === '' });
  const receiptOk = sender || !ranItsCourse || check(receivedHere, { 'broadcasts received': (n) => n > 0 });
  if (!joinedOk && joinError) console.warn(`VU ${__VU}: join of ${topic} failed: ${joinError}`);
  if (!socketOk) console.warn(`VU ${__VU}: ${socketError}`);
  const failed = !(ok && joinedOk && socketOk && receiptOk);
  failures.add(failed);
  // After a refused or dropped session, pause before reconnecting: an immediate retry from every
  // user would turn a Realtime limit (too_many_joins) into a storm of joins.
  if (!joinedOk || !socketOk) sleep(5 + 5 * Math.random());
}
