#!/bin/bash
# POP3 side by side: FastSpool and Dovecot (Debian dovecot-pop3d) on loopback serve the same mbox files, and
# fastspool-bench drains every user's maildrop (USER, PASS, STAT, RETR and DELE of each message, QUIT) with
# CONNECTIONS sessions at once. Prints one line per server: messages/s, MB/s, and the peak memory of all the
# server's processes as PSS (proportional set size, so that pages shared by Dovecot's processes count once).
# Needs root (installs dovecot-pop3d, creates the user fsbench).
# Usage: bench/pop3-compare.sh [USERS (20)] [MESSAGES per user (200)] [BODY bytes (10240)] [CONNECTIONS (10)]
# Env:   DOVECOT_PASSWORDS=same (default: Dovecot gets each user's own SCRAM-SHA-256 entry from FastSpool's users
#        file, so both check PASS with the same 210,000-round PBKDF2) or plain (Dovecot's {PLAIN}: no hashing cost)
set -euo pipefail
USERS=${1:-20} MESSAGES=${2:-200} BODY=${3:-10240} CONNECTIONS=${4:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/pop3-compare.XXXXXX)
chmod 755 "$WORK" # Dovecot's auth and mail processes (users dovecot, fsbench) reach their files in it
FS_POP3=${FS_POP3:-11210} FS_SMTP=${FS_SMTP:-11225} DC_POP3=${DC_POP3:-11310}
command -v dovecot >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dovecot-pop3d >/dev/null
id fsbench >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin fsbench
dotnet publish "$ROOT/src/FastSpool" -c Release -o "$WORK/fastspool" --artifacts-path "$WORK/artifacts" >/dev/null # native, as installed
dotnet publish "$ROOT/bench/FastSpool.Bench" -c Release -o "$WORK/bench" >/dev/null

# One mbox, as FastSpool's delivery writes it, copied for every user of both servers.
python3 - "$WORK/template" "$MESSAGES" "$BODY" <<'PY'
import sys
path, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
line = ("0123456789abcdefghijklmnopqrstuvwxyz" * 3)[:76] + "\n"
body = (line * (size // len(line) + 1))[:size]
body = body[:body.rfind("\n") + 1]
with open(path, "w") as f:
    for i in range(count):
        f.write(f"From bench@example.org  Mon Nov 30 10:00:00 2026\nReturn-Path: <bench@example.org>\n"
                f"Delivered-To: user@localhost\nSubject: message {i}\nMessage-ID: <{i}@bench.example>\n\n{body}\n")
PY
users=$(seq -f "bench%g" 1 "$USERS" | paste -sd, -)

peak_pss() { # command-name pattern -> prints the peak of the summed PSS (KiB) until the file $WORK/stop exists
  local peak=0 sum pid
  while [ ! -e "$WORK/stop" ]; do
    sum=0
    for pid in $(ps -eo pid=,comm= | awk -v p="$1" '$2 ~ p {print $1}'); do
      sum=$((sum + $(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)))
    done
    [ "$sum" -gt "$peak" ] && peak=$sum
    sleep 0.05
  done
  echo "$peak"
}
run() { # label port pattern
  rm -f "$WORK/stop"
  peak_pss "$3" > "$WORK/pss.$1" &
  local watcher=$!
  "$WORK/bench/fastspool-bench" pop3 --server "127.0.0.1:$2" --users "$users" --password secret --connections "$CONNECTIONS" > "$WORK/out.$1" || true
  touch "$WORK/stop"; wait "$watcher"
  echo "$1: $(cat "$WORK/out.$1") peak_pss_kb=$(cat "$WORK/pss.$1")"
}

# FastSpool
mkdir -p "$WORK/fs/mail"
for u in ${users//,/ }; do
  echo secret | "$WORK/fastspool/fastspool" user add "$u" --password-stdin --data "$WORK/fs" >/dev/null
  cp "$WORK/template" "$WORK/fs/mail/$u"
done
"$WORK/fastspool/fastspool" serve --data "$WORK/fs" --Users:System=false --Smtp:Listen:0=127.0.0.1:$FS_SMTP \
  --Pop3:Listen:0=127.0.0.1:$FS_POP3 --Pop3:MaxConnectionsPerClient=0 --LogLevel=Warning > "$WORK/fs.log" 2>&1 &
fs_pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$FS_POP3) 2>/dev/null && break; sleep 0.1; done
run fastspool "$FS_POP3" '^fastspool$'
kill "$fs_pid"; wait "$fs_pid" || true

# Dovecot, a private instance: mbox INBOX per user, the same locks (fcntl + dotlock), and the same password hashes
# ($scram-sha-256$ITER$SALT$STOREDKEY$SERVERKEY is Dovecot's {SCRAM-SHA-256}ITER,SALT,STOREDKEY,SERVERKEY).
mkdir -p "$WORK/dc/run" "$WORK/dc/spool" "$WORK/dc/home"
for u in ${users//,/ }; do
  if [ "${DOVECOT_PASSWORDS:-same}" = plain ]; then
    echo "$u:{PLAIN}secret::::::" >> "$WORK/dc/passwd"
  else
    grep "^$u:" "$WORK/fs/users" | awk -F'$' '{ printf "%s{SCRAM-SHA-256}%s,%s,%s,%s::::::\n", $1, $3, $4, $5, $6 }' >> "$WORK/dc/passwd"
  fi
  cp "$WORK/template" "$WORK/dc/spool/$u"; mkdir -p "$WORK/dc/home/$u"
done
chown -R fsbench: "$WORK/dc/spool" "$WORK/dc/home"; chmod 1777 "$WORK/dc/spool"; chmod 644 "$WORK/dc/passwd"; chmod 755 "$WORK/dc"
cat > "$WORK/dc/dovecot.conf" <<CONF
base_dir = $WORK/dc/run
state_dir = $WORK/dc/state
log_path = $WORK/dc/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
# room for every session at once (the default of 100 processes per service would queue them)
default_process_limit = 2000
default_client_limit = 4000
passdb {
  driver = passwd-file
  args = scheme=PLAIN $WORK/dc/passwd
}
userdb {
  driver = static
  args = uid=fsbench gid=fsbench home=$WORK/dc/home/%u
}
mail_location = mbox:~/mail:INBOX=$WORK/dc/spool/%u
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $DC_POP3
  }
}
CONF
dovecot -c "$WORK/dc/dovecot.conf"
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$DC_POP3) 2>/dev/null && break; sleep 0.1; done
run dovecot "$DC_POP3" '^(dovecot|pop3|pop3-login|auth|config|log|anvil|stats)$'
dovecot -c "$WORK/dc/dovecot.conf" stop
echo "mailboxes left: fastspool $(cat "$WORK"/fs/mail/bench* | grep -c '^From ' || true) messages, dovecot $(cat "$WORK"/dc/spool/bench* | grep -c '^From ' || true) messages"
rm -rf "$WORK"
