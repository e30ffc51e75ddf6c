// A PXE-firmware-shaped DHCP client for the proxyDHCP test, run inside a namespace:
//   node pxe-client.mjs IFNAME MAC
// DISCOVER (PXEClient, arch 0, UUID) → collect offers until one carries an address and one a boot file
// → REQUEST the address from the server that offered it → put it on IFNAME → REQUEST boot information
// from the proxy on port 4011. Prints one JSON object with everything it received. Uses our compiled
// codec (npm test builds dist/ first).
import { createSocket } from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
const dist = fileURLToPath(new URL('../../../dist/src/dhcp/', import.meta.url));
const { emptyPacket, encodePacket, decodePacket, setOption, setRaw, getOption, getRaw, MessageType } = await import(`${dist}packet.js`);

const [ifname, macText] = process.argv.slice(2);
const mac = Uint8Array.from(macText.split(':').map((h) => parseInt(h, 16)));
const uuid = Uint8Array.of(0, ...Array.from({ length: 16 }, (_, i) => i));
const xid = Math.floor(Math.random() * 0xffffffff);

function packet(type, extra = () => {}) {
  const p = emptyPacket(1);
  p.xid = xid;
  p.chaddr = mac;
  p.flags = 0x8000;
  setOption(p, 'messageType', type);
  setOption(p, 'maxMessageSize', 1260);
  setOption(p, 'parameterList', [1, 3, 6, 43, 54, 60, 66, 67, 97, 128]);
  setOption(p, 'vendorClass', 'PXEClient:Arch:00000:UNDI:002001');
  setOption(p, 'clientArch', [0]);
  setRaw(p, 97, uuid);
  extra(p);
  return encodePacket(p);
}

const summary = (p, from) => ({
  from,
  type: getOption(p, 'messageType'),
  serverId: getOption(p, 'serverId'),
  yiaddr: p.yiaddr,
  siaddr: p.siaddr,
  file: p.file,
  bootFile: getOption(p, 'bootFile'),
  vendorClass: getOption(p, 'vendorClass'),
  leaseTime: getOption(p, 'leaseTime'),
  pxeOptions: getRaw(p, 43) ? Buffer.from(getRaw(p, 43)).toString('hex') : undefined,
});

const socket = createSocket({ type: 'udp4', reuseAddr: true });
const received = [];
let waiter;
socket.on('message', (msg, rinfo) => {
  let p;
  try {
    p = decodePacket(msg);
  } catch {
    return;
  }
  if (p.xid !== xid || p.op !== 2) return;
  received.push(summary(p, `${rinfo.address}:${rinfo.port}`));
  waiter?.();
});
await new Promise((r) => socket.bind(68, '0.0.0.0', r));
socket.setBroadcast(true);
const send = (bytes, port, address) => new Promise((r, j) => socket.send(bytes, port, address, (e) => (e ? j(e) : r())));

async function until(check, resend, ms = 10_000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await resend();
    await new Promise((r) => {
      const t = setTimeout(r, 1000);
      waiter = () => {
        clearTimeout(t);
        r();
      };
    });
  }
  return true;
}

const out = { offers: [], afterRequest: [], pxe: [] };
const discover = packet(MessageType.DISCOVER);
await until(
  () => received.some((r) => r.type === 2 && r.yiaddr !== '0.0.0.0') && received.some((r) => r.type === 2 && r.file),
  () => send(discover, 67, '255.255.255.255'),
);
await new Promise((r) => setTimeout(r, 300)); // late duplicates
out.offers = received.splice(0);
const lease = out.offers.find((r) => r.type === 2 && r.yiaddr !== '0.0.0.0');
const proxy = out.offers.find((r) => r.type === 2 && r.yiaddr === '0.0.0.0' && r.file);
if (lease) {
  const request = packet(MessageType.REQUEST, (p) => {
    setOption(p, 'serverId', lease.serverId);
    setOption(p, 'requestedAddress', lease.yiaddr);
  });
  await until(
    () => received.some((r) => r.type === 5 || r.type === 6),
    () => send(request, 67, '255.255.255.255'),
  );
  await new Promise((r) => setTimeout(r, 300));
  out.afterRequest = received.splice(0);
  execFileSync('ip', ['addr', 'add', `${lease.yiaddr}/24`, 'dev', ifname]);
}
if (proxy && lease) {
  const ask = packet(MessageType.REQUEST, (p) => {
    p.ciaddr = lease.yiaddr;
    p.flags = 0;
  });
  await until(
    () => received.length > 0,
    () => send(ask, 4011, proxy.serverId),
  );
  out.pxe = received.splice(0);
}
process.stdout.write(JSON.stringify(out) + '\n');
socket.close();
