#!/usr/bin/env bash
# Peer servers for side-by-side runs, on loopback only:
#   peers.sh postfix-start | postfix-stop | sink-start | sink-stop
# A private Postfix instance (its own config, queue and mbox spool under $PEER_DIR, SMTP on 127.0.0.1:$PF_PORT,
# domain example.test, local users bench1..bench2 as Unix accounts) with Postfix's durability defaults (the queue
# file is fsynced before 250, local(8) fsyncs the mbox after each append); and Postfix's smtp-sink on
# 127.0.0.1:$SINK_PORT, which accepts and discards mail: the ceiling of the SMTP dialogue with a given client.
# With PF_RELAYHOST (e.g. [127.0.0.1]:2526), Postfix relays mail for other domains there, as a LAN smarthost does.
# With PF_TLS_CERT and PF_TLS_KEY (PEM files) the instance offers STARTTLS (smtpd_tls_security_level=may), for
# runs with TLS against FastSpool holding the same certificate.
# Needs root (it installs Postfix with apt-get when missing, and creates the users).
set -euo pipefail
PEER_DIR=${PEER_DIR:-/tmp/fastspool-peers}
PF_PORT=${PF_PORT:-2525}
SINK_PORT=${SINK_PORT:-2526}
PF_CONF=$PEER_DIR/postfix
PF_SPOOL=$PEER_DIR/spool

need_postfix() {
  [ -x /usr/sbin/postfix ] && [ -x /usr/sbin/smtp-source ] && [ -x /usr/sbin/smtp-sink ] && return
  [ "$(id -u)" = 0 ] || { echo "peers.sh: Postfix is not installed and installing it needs root" >&2; exit 1; }
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null
}

postfix_start() {
  need_postfix
  for u in bench1 bench2; do id "$u" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /usr/sbin/nologin "$u"; done
  # The package may start the system instance; ours must be the only one on our port.
  if [ -f /etc/postfix/main.cf ] && postfix status >/dev/null 2>&1; then postfix stop >/dev/null 2>&1 || true; fi
  if [ -f "$PF_CONF/main.cf" ] && postfix -c "$PF_CONF" status >/dev/null 2>&1; then postfix -c "$PF_CONF" stop >/dev/null; fi
  mkdir -p "$PF_CONF/queue" "$PF_CONF/data" "$PF_SPOOL"
  chmod 1777 "$PF_SPOOL"
  chown postfix:postfix "$PF_CONF/data"
  cat > "$PF_CONF/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $PF_CONF/queue
data_directory = $PF_CONF/data
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = /tmp
maillog_file = $PF_CONF/maillog
myhostname = postfix.example.test
mydomain = example.test
myorigin = example.test
mydestination = example.test, localhost
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = ${PF_RELAYHOST:-}
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps =
alias_database =
local_recipient_maps = proxy:unix:passwd.byname
mail_spool_directory = $PF_SPOOL
mailbox_command =
mailbox_size_limit = 0
message_size_limit = 52428800
biff = no
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
CONF
  if [ -n "${PF_TLS_CERT:-}" ]; then
    cat >> "$PF_CONF/main.cf" <<CONF
smtpd_tls_security_level = may
smtpd_tls_cert_file = $PF_TLS_CERT
smtpd_tls_key_file = $PF_TLS_KEY
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_loglevel = 0
tls_random_source = dev:/dev/urandom
CONF
  fi
  cat > "$PF_CONF/master.cf" <<CONF
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
tlsmgr    unix  - - n 1000? 1 tlsmgr
CONF
  postfix -c "$PF_CONF" set-permissions >/dev/null 2>&1 || true
  postfix -c "$PF_CONF" check
  postfix -c "$PF_CONF" start >/dev/null 2>&1
  wait_port "$PF_PORT"
  echo "postfix on 127.0.0.1:$PF_PORT, mbox spool $PF_SPOOL"
}

postfix_stop() {
  if [ -f "$PF_CONF/main.cf" ] && postfix -c "$PF_CONF" status >/dev/null 2>&1; then postfix -c "$PF_CONF" stop >/dev/null 2>&1 || true; fi
}

sink_start() {
  need_postfix
  sink_stop
  local user=; [ "$(id -u)" = 0 ] && user="-u nobody"
  nohup /usr/sbin/smtp-sink $user -m 1000 "127.0.0.1:$SINK_PORT" 1024 >"$PEER_DIR/sink.log" 2>&1 &
  echo $! > "$PEER_DIR/sink.pid"
  wait_port "$SINK_PORT"
  echo "smtp-sink on 127.0.0.1:$SINK_PORT"
}

sink_stop() {
  if [ -f "$PEER_DIR/sink.pid" ]; then kill "$(cat "$PEER_DIR/sink.pid")" 2>/dev/null || true; rm -f "$PEER_DIR/sink.pid"; fi
}

wait_port() {
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "nothing listens on 127.0.0.1:$1" >&2; return 1
}

mkdir -p "$PEER_DIR"
case "${1:-}" in
  postfix-start) postfix_start ;;
  postfix-stop) postfix_stop ;;
  sink-start) sink_start ;;
  sink-stop) sink_stop ;;
  *) echo "usage: $0 postfix-start|postfix-stop|sink-start|sink-stop" >&2; exit 64 ;;
esac
