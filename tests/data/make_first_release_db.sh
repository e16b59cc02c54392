#!/usr/bin/env bash
# Rebuilds tests/data/first_release.sqlite: a database made by the first commit whose schema
# holds every feature (4bccde4: core 0001-0002, faq_0001, meetings_0001, casestudies_0001),
# filled through that commit's own console adapter, as a group would have filled it.
# Usage: tests/data/make_first_release_db.sh   (from a clone; uses .venv or $PYTHON, whose
# installed packages must include the old code's dependencies: the test extra's set does)
set -euo pipefail
repo=$(git rev-parse --show-toplevel)
commit=4bccde4
python=${PYTHON:-$repo/.venv/bin/python}
work=$(mktemp -d)
trap 'git -C "$repo" worktree remove --force "$work/code" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$repo" worktree add --detach "$work/code" "$commit" >/dev/null
db="$work/first_release.sqlite"
cd "$work"  # python -m puts the working directory first on sys.path: the old code must win
cat >"$work/config.toml" <<TOML
[bot]
database = "sqlite:///$db"
adapters = ["console"]
commands = ["basics", "members", "faq", "announce", "meetings", "casestudies"]
[permissions]
organisers = ["console:ana"]
[ratelimit]
exempt_platforms = ["console"]
[adapters.console]
member = "alice"
room = "#general"
organisers = ["ana"]
TOML
summary="Lakeside Public Library ran a month of 1Lib1Ref sessions with its reference staff and \
local Wikipedians. Librarians added citations to articles about the region's history, trained \
eighteen volunteers, and documented the workflow so other branches can repeat it next January \
with little help."
printf '%s\n' '/as ana' '!tz set london' '!lang en' \
  '!meeting add "Open meeting (APAC)" 2026-12-08 09:00 Asia/Manila --duration 1h --every 4 weeks' \
  '!meeting confirm 1' \
  '!meeting add "Wikidata for librarians" 15 january 2027 14:00 UTC --duration 90m' \
  '!meeting confirm 2' \
  '/as rosa' '!tz set manila' '!rsvp 1 yes' '!remind me on' \
  '/as alice' '!tz set lagos' '!lang fr' '!rsvp 1 maybe' '!rsvp 2 no' \
  '!ask how do I get a library card in Lagos' \
  '/as ana' \
  '!faq add wikimania "When is Wikimania?" Wikimania is held every summer, in a different city each year.' \
  '!faq alias wikimania when does wikimania happen' \
  '/as kofi' '/dm' '!casestudy submit' '#1Lib1Ref at Lakeside' 'Lakeside Public Library' \
  'Q123456' 'public' 'Kenya' 'en; sw' 'wikipedia; wikidata' '1lib1ref' 'skip' \
  '2024-01 2024-02' "$summary" 'citations_added 412, participants 18' \
  'https://example.org/dashboard' 'Start small.' 'Kofi' 'kofi@example.org' 'yes' 'yes' 'yes' \
  '/as ana' '/room #general' '!casestudy claim 1' '!casestudy accept 1' '!casestudy publish 1' \
  | PYTHONPATH="$work/code" "$python" -m chatbot run -c "$work/config.toml" >/dev/null
# A Matrix account's sync position and answered events, as that commit's adapter stored them
# (the adapter itself needs a homeserver; its StateKeys name the rows).
PYTHONPATH="$work/code" "$python" - "$db" <<'PY'
import asyncio, json, sys
from chatbot.clock import SystemClock
from chatbot.storage import Database
from adapters.matrix_sync import StateKeys

async def main() -> None:
    db = Database(f"sqlite:///{sys.argv[1]}", SystemClock())
    keys = StateKeys("@wmlib-bot:example.org")
    await db.set_state(keys.sync_token, "s1234_567_8_9_10_1_1_1_1")
    await db.set_state(keys.recent, json.dumps(["$answered-1:example.org", "$answered-2:example.org"]))
    await db.set_state(keys.device_id, "FIXTUREDEV")
    await db.close()

asyncio.run(main())
PY
"$python" - "$db" <<'PY'
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
conn.execute("VACUUM")
conn.close()
PY
cp "$db" "$repo/tests/data/first_release.sqlite"
echo "wrote tests/data/first_release.sqlite"
