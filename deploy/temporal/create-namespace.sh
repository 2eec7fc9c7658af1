#!/bin/sh
# One-shot: create Herald's namespace if missing and register the custom search
# attributes its workflows set (operators filter on them in the Web UI).
# Safe to rerun: an existing namespace or attribute is left as it is.
set -eu

ADDRESS=${TEMPORAL_ADDRESS:-temporal:7233}
NAMESPACE=${TEMPORAL_NAMESPACE:-default}
RETENTION=${TEMPORAL_RETENTION:-168h}

# The server's port opens before its services answer, so poll its health.
attempt=0
until temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1; do
  attempt=$((attempt + 1))
  [ "$attempt" -lt 60 ] || { echo "temporal at $ADDRESS is not healthy" >&2; exit 1; }
  sleep 2
done

if temporal operator namespace describe --address "$ADDRESS" -n "$NAMESPACE" >/dev/null 2>&1; then
  echo "temporal-namespace: namespace $NAMESPACE exists"
else
  temporal operator namespace create --address "$ADDRESS" -n "$NAMESPACE" --retention "$RETENTION"
  echo "temporal-namespace: created namespace $NAMESPACE (retention $RETENTION)"
fi

# With SQL visibility, custom search attributes belong to a namespace. A freshly
# created namespace reaches every frontend only after a cache refresh (seconds),
# so "not found" is retried; "already exists" counts as done.
register() {
  name=$1
  type=$2
  attempt=0
  while :; do
    if out=$(temporal operator search-attribute create --address "$ADDRESS" \
      --namespace "$NAMESPACE" --name "$name" --type "$type" 2>&1); then
      echo "temporal-namespace: search attribute $name ($type) registered"
      return 0
    fi
    case "$out" in
      *"already exists"* | *"Already exists"* | *"AlreadyExists"*)
        echo "temporal-namespace: search attribute $name exists"
        return 0
        ;;
    esac
    attempt=$((attempt + 1))
    if [ "$attempt" -ge 30 ]; then
      echo "temporal-namespace: cannot register $name: $out" >&2
      return 1
    fi
    sleep 2
  done
}

register NotificationId Keyword
register UserId Keyword
register Category Keyword
register Channels KeywordList
register DeliveryStatus Keyword
register BroadcastRecipients Int
register BroadcastStarted Int
register FlowStep Keyword
echo 'temporal-namespace: done'
