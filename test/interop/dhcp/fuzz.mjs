// Sends COUNT fuzzed datagrams to HOST:67 from inside a namespace: the golden packets of
// test/fixtures/dhcp mutated (bytes flipped, lengths lied about, truncated, extended, options shuffled,
// client addresses randomised) plus pure noise, from a seeded generator so a failure can be replayed.
//   node fuzz.mjs HOST COUNT SEED
// Prints {"sent":N} at the end.
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [host, countText, seedText] = process.argv.slice(2);
const count = Number(countText);
let state = Number(seedText) >>> 0 || 1;
function rand() {
  // mulberry32
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(rand() * n);

const dir = fileURLToPath(new URL('../../fixtures/dhcp/', import.meta.url));
const golden = readdirSync(dir)
  .filter((f) => f.endsWith('.hex'))
  .map((f) => Buffer.from(readFileSync(dir + f, 'utf8').replace(/\s/g, ''), 'hex'));

function mutate() {
  const kind = int(8);
  if (kind === 0) return Buffer.from(Array.from({ length: int(700) }, () => int(256)));
  let p = Buffer.from(golden[int(golden.length)]);
  p[0] = 1; // mostly requests, so the server's deeper paths run
  for (let i = 28; i < 34; i++) p[i] = int(256); // a new client each time
  switch (kind) {
    case 1: // flip bytes anywhere
      for (let n = 1 + int(12); n > 0; n--) p[int(p.length)] = int(256);
      break;
    case 2: // flip bytes in the options
      for (let n = 1 + int(6); n > 0; n--) p[240 + int(p.length - 240)] = int(256);
      break;
    case 3: // truncate
      p = p.subarray(0, int(p.length));
      break;
    case 4: // random TLVs after the cookie, lengths sometimes lying
      {
        const tlvs = [53, 1, 1 + int(8)];
        for (let n = int(20); n > 0; n--) {
          const len = int(12);
          tlvs.push(int(256), int(4) === 0 ? int(256) : len, ...Array.from({ length: len }, () => int(256)));
        }
        if (int(2)) tlvs.push(255);
        p = Buffer.concat([p.subarray(0, 240), Buffer.from(tlvs)]);
      }
      break;
    case 5: // overload the file/sname fields with random options
      p = Buffer.concat([p.subarray(0, 240), Buffer.from([52, 1, 1 + int(3), 53, 1, 1 + int(8), 255])]);
      for (let i = 44; i < 236; i++) p[i] = int(3) === 0 ? int(256) : 0;
      break;
    case 6: // extend with junk
      p = Buffer.concat([p, Buffer.from(Array.from({ length: int(1200) }, () => int(256)))]);
      break;
    case 7: // header fields: op, htype, hlen, giaddr, ciaddr
      p[0] = int(4);
      p[2] = int(24);
      if (int(2)) p.writeUInt32BE(int(0x100000000) >>> 0, 24);
      if (int(2)) p.writeUInt32BE(int(0x100000000) >>> 0, 12);
      break;
  }
  return p;
}

const socket = createSocket('udp4');
await new Promise((r) => socket.bind(0, r));
let sent = 0;
while (sent < count) {
  const batch = [];
  for (let i = 0; i < 500 && sent < count; i++, sent++) {
    batch.push(new Promise((r) => socket.send(mutate(), 67, host, () => r())));
  }
  await Promise.all(batch);
  // pace: about 10,000 datagrams a second, so the clients' exchanges overlap the whole run
  await new Promise((r) => setTimeout(r, 50));
}
process.stdout.write(JSON.stringify({ sent }) + '\n');
socket.close();
