/*
 * be's native datagram path: a small Node-API addon (services/net/datagram.ts loads it, and falls back
 * to node:dgram when it cannot). What Node's dgram cannot do or does dearly:
 *
 *  - the arrival interface and local address of each datagram (IP_PKTINFO on Linux, IP_RECVIF and
 *    IP_RECVDSTADDR on FreeBSD), so one DHCP server serves several LANs directly;
 *  - a reply that leaves by a given interface whatever the routing table says (IP_PKTINFO's
 *    ipi_ifindex on Linux), so a broadcast OFFER works on a LAN with no default route;
 *  - batches: every wake-up of the event loop reads up to BATCH datagrams with one recvmmsg(2) into
 *    buffers owned by JavaScript and calls JavaScript once for all of them; a window of datagrams to
 *    one peer, or the replies to several, leave in one sendmmsg(2).
 *
 * Readiness comes from libuv (uv_poll on the non-blocking socket), so Node's event loop stays the only
 * loop, and the callback is entered with napi_make_callback, so promises and process.nextTick run
 * after it as after any of Node's own handles. The layouts of msghdr, cmsghdr and in_pktinfo come from
 * the system's headers: this file is compiled on the machine that runs it (scripts/build-native.mjs).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>
#ifdef __FreeBSD__
#include <net/if_dl.h>
#endif

/* Datagrams read per recvmmsg(2), and rounds of it per wake-up before other handles get their turn. */
#define BATCH 64
#define ROUNDS 8
/* Per datagram in the metadata array, as int32: length, source address, source port, arrival
 * interface index, local (destination) address, flags (1: truncated). Addresses in host order. */
#define META 6
#define CONTROL_BYTES 128
/* A sent datagram's control data: one in_pktinfo (Linux) or in_addr (FreeBSD's IP_SENDSRCADDR). */
#define SEND_CONTROL_BYTES 64

typedef struct Socket Socket;

/* The poll handle outlives the Socket by a turn of the loop: uv_close() finishes later. */
typedef struct {
  uv_poll_t handle;
  Socket *socket;
  int fd;
} Poll;

struct Socket {
  int fd;
  napi_env env;
  Poll *poll;
  napi_ref callback;
  napi_ref payload_ref;
  napi_ref meta_ref;
  napi_async_context async;
  uint8_t *payload;
  size_t slot;
  int32_t *meta;
  int closed;
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_in from[BATCH];
  uint8_t control[BATCH][CONTROL_BYTES];
};

#define CHECK(call)                                                                                                    \
  do {                                                                                                                 \
    if ((call) != napi_ok) return NULL;                                                                                \
  } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  char code[32];
  snprintf(code, sizeof code, "%d", err);
  napi_throw_error(env, code, message);
  return NULL;
}

static napi_value number(napi_env env, double value) {
  napi_value out;
  napi_create_double(env, value, &out);
  return out;
}

static int get_int(napi_env env, napi_value value, int64_t *out) {
  return napi_get_value_int64(env, value, out) == napi_ok;
}

static Socket *socket_of(napi_env env, napi_value value) {
  void *data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "not a native datagram socket");
    return NULL;
  }
  return (Socket *)data;
}

static void on_poll_closed(uv_handle_t *handle) {
  Poll *poll = (Poll *)handle;
  close(poll->fd);
  free(poll);
}

/* Stops reading, drops the references to JavaScript, and closes the descriptor (after libuv lets go of it). */
static void shut(Socket *s, int in_finalizer) {
  if (s->closed) return;
  s->closed = 1;
  if (!in_finalizer) {
    if (s->callback) napi_delete_reference(s->env, s->callback);
    if (s->payload_ref) napi_delete_reference(s->env, s->payload_ref);
    if (s->meta_ref) napi_delete_reference(s->env, s->meta_ref);
    if (s->async) napi_async_destroy(s->env, s->async);
  }
  s->callback = s->payload_ref = s->meta_ref = NULL;
  s->async = NULL;
  if (s->poll) {
    uv_poll_stop(&s->poll->handle);
    s->poll->socket = NULL;
    uv_close((uv_handle_t *)&s->poll->handle, on_poll_closed);
    s->poll = NULL;
  } else {
    close(s->fd);
  }
  s->fd = -1;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Socket *s = (Socket *)data;
  shut(s, 1);
  free(s);
}

/* Where a datagram arrived: its interface and the local address it was sent to. */
static void arrival(struct msghdr *msg, int32_t *ifindex, uint32_t *local) {
  *ifindex = 0;
  *local = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != IPPROTO_IP) continue;
#ifdef IP_PKTINFO
    if (c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo info;
      memcpy(&info, CMSG_DATA(c), sizeof info);
      *ifindex = info.ipi_ifindex;
      *local = ntohl(info.ipi_addr.s_addr);
    }
#endif
#if defined(IP_RECVIF) && defined(__FreeBSD__)
    if (c->cmsg_type == IP_RECVIF) {
      struct sockaddr_dl sdl;
      memcpy(&sdl, CMSG_DATA(c), sizeof sdl < c->cmsg_len - CMSG_LEN(0) ? sizeof sdl : c->cmsg_len - CMSG_LEN(0));
      *ifindex = sdl.sdl_index;
    }
#endif
#if defined(IP_RECVDSTADDR) && !defined(IP_PKTINFO)
    if (c->cmsg_type == IP_RECVDSTADDR) {
      struct in_addr dst;
      memcpy(&dst, CMSG_DATA(c), sizeof dst);
      *local = ntohl(dst.s_addr);
    }
#endif
  }
}

static void call_back(Socket *s, int count) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value callback, recv, argv[1], result;
  if (s->callback && napi_get_reference_value(env, s->callback, &callback) == napi_ok && callback != NULL) {
    napi_get_global(env, &recv); /* napi_make_callback wants an object as `this` */
    argv[0] = number(env, count);
    if (napi_make_callback(env, s->async, recv, callback, 1, argv, &result) == napi_pending_exception) {
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error); /* 'uncaughtException', as for any callback of Node's */
    }
  }
  napi_close_handle_scope(env, scope);
}

/* Points the read headers at the payload slots (once, at start), or puts back what a read changed in the first `count`. */
static void ready_headers(Socket *s, int count) {
  for (int i = 0; i < count; i++) {
    struct msghdr *m = &s->msgs[i].msg_hdr;
    if (m->msg_iov == NULL) {
      s->iov[i].iov_base = s->payload + (size_t)i * s->slot;
      s->iov[i].iov_len = s->slot;
      m->msg_name = &s->from[i];
      m->msg_iov = &s->iov[i];
      m->msg_iovlen = 1;
      m->msg_control = s->control[i];
    }
    /* recvmmsg(2) writes these three of each datagram it fills. */
    m->msg_namelen = sizeof s->from[i];
    m->msg_controllen = CONTROL_BYTES;
    m->msg_flags = 0;
  }
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  (void)events;
  Socket *s = ((Poll *)handle)->socket;
  if (s == NULL || s->closed || status < 0) return;
  for (int round = 0; round < ROUNDS && !s->closed; round++) {
    int n = recvmmsg(s->fd, s->msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return; /* EAGAIN: drained; an error (ICMP port unreachable on Linux) is for the next read */
    for (int i = 0; i < n; i++) {
      int32_t *meta = s->meta + i * META;
      int32_t ifindex;
      uint32_t local;
      arrival(&s->msgs[i].msg_hdr, &ifindex, &local);
      meta[0] = (int32_t)s->msgs[i].msg_len;
      meta[1] = (int32_t)ntohl(s->from[i].sin_addr.s_addr);
      meta[2] = ntohs(s->from[i].sin_port);
      meta[3] = ifindex;
      meta[4] = (int32_t)local;
      meta[5] = (s->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? 1 : 0;
    }
    ready_headers(s, n);
    call_back(s, n);
    if (n < BATCH) return;
  }
}

/* open(address: string, port: number, recvBuffer: number, sendBuffer: number, reuseAddr: boolean) → socket */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char address[64];
  size_t length;
  int64_t port, recv_buffer, send_buffer;
  bool reuse = false;
  if (argc < 5 || napi_get_value_string_utf8(env, argv[0], address, sizeof address, &length) != napi_ok || !get_int(env, argv[1], &port) ||
      !get_int(env, argv[2], &recv_buffer) || !get_int(env, argv[3], &send_buffer) || napi_get_value_bool(env, argv[4], &reuse) != napi_ok) {
    napi_throw_type_error(env, NULL, "open(address, port, recvBuffer, sendBuffer, reuseAddr)");
    return NULL;
  }
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, address, &sin.sin_addr) != 1) {
    napi_throw_type_error(env, NULL, "not an IPv4 address");
    return NULL;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int on = 1;
  int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
  if (reuse) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
#ifdef IP_PKTINFO
  setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
#endif
#ifdef IP_RECVIF
  setsockopt(fd, IPPROTO_IP, IP_RECVIF, &on, sizeof on);
#endif
#if defined(IP_RECVDSTADDR) && !defined(IP_PKTINFO)
  setsockopt(fd, IPPROTO_IP, IP_RECVDSTADDR, &on, sizeof on);
#endif
  if (recv_buffer > 0) {
    int size = (int)recv_buffer;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  if (send_buffer > 0) {
    int size = (int)send_buffer;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  }
  if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind", err);
  }
  Socket *s = calloc(1, sizeof *s);
  if (s == NULL) {
    close(fd);
    return throw_errno(env, "calloc", ENOMEM);
  }
  s->fd = fd;
  s->env = env;
  napi_value external;
  if (napi_create_external(env, s, finalize, NULL, &external) != napi_ok) {
    close(fd);
    free(s);
    return NULL;
  }
  return external;
}

/* port(socket) → the bound port */
static napi_value js_port(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Socket *s = socket_of(env, argv[0]);
  if (s == NULL) return NULL;
  struct sockaddr_in sin;
  socklen_t len = sizeof sin;
  if (s->closed || getsockname(s->fd, (struct sockaddr *)&sin, &len) < 0) return throw_errno(env, "getsockname", s->closed ? EBADF : errno);
  return number(env, ntohs(sin.sin_port));
}

/*
 * start(socket, payload: ArrayBuffer, slot: number, meta: ArrayBuffer, callback(count)): reads into
 * payload[i * slot] and meta[i * META] for i < count, then calls back; both buffers are JavaScript's.
 */
static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Socket *s = socket_of(env, argv[0]);
  if (s == NULL) return NULL;
  void *payload, *meta;
  size_t payload_bytes, meta_bytes;
  int64_t slot;
  if (argc < 5 || napi_get_arraybuffer_info(env, argv[1], &payload, &payload_bytes) != napi_ok || !get_int(env, argv[2], &slot) ||
      napi_get_arraybuffer_info(env, argv[3], &meta, &meta_bytes) != napi_ok || slot <= 0 || payload_bytes < (size_t)slot * BATCH ||
      meta_bytes < sizeof(int32_t) * META * BATCH) {
    napi_throw_type_error(env, NULL, "start(socket, payload, slot, meta, callback): buffers too small");
    return NULL;
  }
  if (s->closed) return throw_errno(env, "start", EBADF);
  if (s->poll) {
    napi_throw_error(env, NULL, "already started");
    return NULL;
  }
  s->payload = payload;
  s->slot = (size_t)slot;
  s->meta = meta;
  ready_headers(s, BATCH);
  CHECK(napi_create_reference(env, argv[1], 1, &s->payload_ref));
  CHECK(napi_create_reference(env, argv[3], 1, &s->meta_ref));
  CHECK(napi_create_reference(env, argv[4], 1, &s->callback));
  napi_value name;
  CHECK(napi_create_string_utf8(env, "be.datagram", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &s->async));
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  Poll *poll = calloc(1, sizeof *poll);
  if (poll == NULL) return throw_errno(env, "calloc", ENOMEM);
  poll->socket = s;
  poll->fd = s->fd;
  int err = uv_poll_init(loop, &poll->handle, s->fd);
  if (err == 0) err = uv_poll_start(&poll->handle, UV_READABLE, on_readable);
  if (err != 0) {
    free(poll);
    napi_throw_error(env, NULL, uv_strerror(err));
    return NULL;
  }
  s->poll = poll;
  return NULL;
}

/* Fills a msghdr for one datagram to address:port, out of `ifindex` and from `source` when not 0. */
static void address_message(struct msghdr *m, struct sockaddr_in *to, struct iovec *iov, uint8_t *control, uint32_t address, int port,
                            int ifindex, uint32_t source) {
  memset(to, 0, sizeof *to);
  to->sin_family = AF_INET;
  to->sin_addr.s_addr = htonl(address);
  to->sin_port = htons((uint16_t)port);
  memset(m, 0, sizeof *m);
  m->msg_name = to;
  m->msg_namelen = sizeof *to;
  m->msg_iov = iov;
  m->msg_iovlen = 1;
#ifdef IP_PKTINFO
  if (ifindex != 0 || source != 0) {
    memset(control, 0, CMSG_SPACE(sizeof(struct in_pktinfo)));
    m->msg_control = control;
    m->msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
    struct cmsghdr *c = CMSG_FIRSTHDR(m);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
    struct in_pktinfo pktinfo;
    memset(&pktinfo, 0, sizeof pktinfo);
    pktinfo.ipi_ifindex = ifindex;
    pktinfo.ipi_spec_dst.s_addr = htonl(source);
    memcpy(CMSG_DATA(c), &pktinfo, sizeof pktinfo);
  }
#elif defined(IP_SENDSRCADDR)
  (void)ifindex;
  if (source != 0) {
    memset(control, 0, CMSG_SPACE(sizeof(struct in_addr)));
    m->msg_control = control;
    m->msg_controllen = CMSG_SPACE(sizeof(struct in_addr));
    struct cmsghdr *c = CMSG_FIRSTHDR(m);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_SENDSRCADDR;
    c->cmsg_len = CMSG_LEN(sizeof(struct in_addr));
    struct in_addr src = {htonl(source)};
    memcpy(CMSG_DATA(c), &src, sizeof src);
  }
#else
  (void)ifindex;
  (void)source;
  (void)control;
#endif
}

/* Most pieces one datagram is sent from: a TFTP DATA is its 4-byte header and the block. */
#define PIECES 8
static size_t gather(napi_env env, napi_value value, struct iovec *iov);

/*
 * send(socket, bytes: Uint8Array | Uint8Array[], address: uint32, port, ifindex, source: uint32) →
 * bytes sent, or -errno. An array is gathered by the kernel (writev-style), not copied here.
 */
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Socket *s = socket_of(env, argv[0]);
  if (s == NULL) return NULL;
  int64_t address, port, ifindex, source;
  if (argc < 6 || !get_int(env, argv[2], &address) || !get_int(env, argv[3], &port) || !get_int(env, argv[4], &ifindex) ||
      !get_int(env, argv[5], &source)) {
    napi_throw_type_error(env, NULL, "send(socket, bytes, address, port, ifindex, source)");
    return NULL;
  }
  struct iovec iov[PIECES];
  size_t pieces = gather(env, argv[1], iov);
  if (pieces == 0) return NULL;
  if (s->closed) return number(env, -EBADF);
  struct sockaddr_in to;
  uint8_t control[CONTROL_BYTES];
  struct msghdr m;
  address_message(&m, &to, iov, control, (uint32_t)address, (int)port, (int)ifindex, (uint32_t)source);
  m.msg_iovlen = pieces;
  ssize_t sent = sendmsg(s->fd, &m, MSG_DONTWAIT);
  return number(env, sent < 0 ? -errno : (double)sent);
}

/* The pieces of one datagram, as send() takes them: a Uint8Array or an array of them. Returns how many, 0 on a bad value (thrown). */
static size_t gather(napi_env env, napi_value value, struct iovec *iov) {
  bool is_array = false;
  napi_is_array(env, value, &is_array);
  uint32_t count = 1;
  if (is_array) napi_get_array_length(env, value, &count);
  if (count == 0 || count > PIECES) {
    napi_throw_range_error(env, NULL, "a datagram is 1 to 8 pieces");
    return 0;
  }
  for (uint32_t i = 0; i < count; i++) {
    napi_value piece = value;
    if (is_array && napi_get_element(env, value, i, &piece) != napi_ok) return 0;
    void *data;
    size_t bytes, offset;
    napi_typedarray_type type;
    napi_value arraybuffer;
    if (napi_get_typedarray_info(env, piece, &type, &bytes, &data, &arraybuffer, &offset) != napi_ok || type != napi_uint8_array) {
      napi_throw_type_error(env, NULL, "a datagram is a Uint8Array or an array of them");
      return 0;
    }
    iov[i].iov_base = data;
    iov[i].iov_len = bytes;
  }
  return count;
}

/*
 * sendMany(socket, datagrams: Array<Uint8Array | Uint8Array[]>, address: uint32, port, destinations?: Int32Array)
 * → how many were sent, or -errno: up to BATCH datagrams in one sendmmsg(2). Without `destinations` all go to
 * address:port (a TFTP window); with it, datagram i goes to destinations[4i] (address), [4i+1] (port),
 * out of interface [4i+2] from source [4i+3] (0: the routing table's), as send() would send it (DHCP
 * replies to many clients).
 */
static napi_value js_send_many(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Socket *s = socket_of(env, argv[0]);
  if (s == NULL) return NULL;
  uint32_t count = 0;
  int64_t address, port;
  bool is_array = false;
  if (argc < 4 || napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[1], &count) != napi_ok ||
      count > BATCH || !get_int(env, argv[2], &address) || !get_int(env, argv[3], &port)) {
    napi_throw_type_error(env, NULL, "sendMany(socket, datagrams (at most 64), address, port, destinations?)");
    return NULL;
  }
  int32_t *destinations = NULL;
  napi_valuetype kind = napi_undefined;
  if (argc >= 5) napi_typeof(env, argv[4], &kind);
  if (kind != napi_undefined) {
    napi_typedarray_type type;
    size_t length;
    void *data;
    if (napi_get_typedarray_info(env, argv[4], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_int32_array || length < 4 * (size_t)count) {
      napi_throw_type_error(env, NULL, "sendMany: destinations is an Int32Array of 4 numbers a datagram");
      return NULL;
    }
    destinations = data;
  }
  if (s->closed) return number(env, -EBADF);
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH][PIECES];
  struct sockaddr_in to[BATCH];
  uint8_t control[BATCH][SEND_CONTROL_BYTES]; /* on the stack, not static: worker threads send too */
  for (uint32_t i = 0; i < count; i++) {
    napi_value datagram;
    if (napi_get_element(env, argv[1], i, &datagram) != napi_ok) return NULL;
    size_t pieces = gather(env, datagram, iov[i]);
    if (pieces == 0) return NULL;
    memset(&msgs[i], 0, sizeof msgs[i]);
    const int32_t *d = destinations ? destinations + 4 * i : NULL;
    address_message(&msgs[i].msg_hdr, &to[i], iov[i], control[i], d ? (uint32_t)d[0] : (uint32_t)address, d ? d[1] : (int)port, d ? d[2] : 0,
                    d ? (uint32_t)d[3] : 0);
    msgs[i].msg_hdr.msg_iovlen = pieces;
  }
  if (count == 0) return number(env, 0);
  int sent = sendmmsg(s->fd, msgs, count, MSG_DONTWAIT);
  return number(env, sent < 0 ? -errno : sent);
}

/* close(socket): idempotent */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Socket *s = socket_of(env, argv[0]);
  if (s != NULL) shut(s, 0);
  return NULL;
}

/* interfaceIndex(name) → its index, 0 when there is none */
static napi_value js_interface_index(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IF_NAMESIZE + 1];
  size_t length;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "interfaceIndex(name)");
    return NULL;
  }
  return number(env, if_nametoindex(name));
}

/* interfaceName(index) → its name, or undefined */
static napi_value js_interface_name(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t index;
  if (argc < 1 || !get_int(env, argv[0], &index)) {
    napi_throw_type_error(env, NULL, "interfaceName(index)");
    return NULL;
  }
  char name[IF_NAMESIZE];
  napi_value out;
  if (if_indextoname((unsigned)index, name) == NULL) {
    napi_get_undefined(env, &out);
    return out;
  }
  CHECK(napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"port", NULL, js_port, NULL, NULL, NULL, napi_default, NULL},
      {"start", NULL, js_start, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"sendMany", NULL, js_send_many, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"interfaceIndex", NULL, js_interface_index, NULL, NULL, NULL, napi_default, NULL},
      {"interfaceName", NULL, js_interface_name, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  napi_value batch, meta;
  napi_create_int32(env, BATCH, &batch);
  napi_create_int32(env, META, &meta);
  napi_set_named_property(env, exports, "batch", batch);
  napi_set_named_property(env, exports, "metaFields", meta);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
