//! The inbox's Lua scripts: each state change is one script, so that
//! receivers and workers on several machines see it whole. Keys are built
//! from the prefix (`ARGV[1]`), so this targets one Redis, not a cluster.
//!
//! Layout under prefix `P`:
//! - `P id`: the counter that numbers entries;
//! - `P s`: the work stream (group `workers`); each message is one attempt
//!   schedule of an entry, its field `origin` the entry's number;
//! - `P e:<origin>`: the entry (a hash): `key`, `body`, `received_at`,
//!   `event_type`, `timestamp`, `tenant`, `state`, `attempts`, `base`,
//!   `since`, `at` (its current message), `reason`, `settled_at`, `due_at`;
//! - `P k:<key hex>`: the entry of a duplicate key;
//! - `P retry` (zset, due), `P done` (zset, settled at), `P dead` (zset,
//!   scored by number);
//! - `P n`: counts of pending and taken entries;
//! - `P open` (zset, scored by `since`): the pending and taken entries,
//!   for the age of the oldest;
//! - `P claim`: where the next `XAUTOCLAIM` looks;
//! - `P all` (zset, scored by number): every entry, for listing;
//! - `P d`: the dead letters' stream, one message (origin, attempts,
//!   reason) per dead letter, deleted when it is replayed;
//! - `P ready`: written by each readiness probe, expiring after a minute;
//! - `P layout`: the version of this layout ([`LAYOUT`]), written by the
//!   first append; every script refuses an inbox of another version
//!   before touching it (an inbox from before the marker is version 1).

/// The version of the layout above. Raise it with any change that a
/// receiver or CLI of the previous version would misread.
pub(super) const LAYOUT: u32 = 1;

/// What every script runs first: refuses an inbox of another layout
/// version, naming both, and leaves `layout` set (or `false` for an inbox
/// without the marker yet). ARGV[1] is always the prefix; `LAYOUT_VERSION`
/// in any script stands for [`LAYOUT`].
pub(super) const CHECK_LAYOUT: &str = r"
local layout = redis.call('GET', ARGV[1] .. 'layout')
if layout and layout ~= 'LAYOUT_VERSION' then
  return redis.error_reply('LAYOUT the inbox under ' .. ARGV[1] .. ' has layout version ' .. layout ..
    ', which this version of foxreach-webhooks does not know (it reads layout version LAYOUT_VERSION): ' ..
    'run a receiver and a command-line tool of the version that wrote it')
end
";

/// Appends unless the key is kept or the bound on open entries is reached,
/// numbering entries with the counter `P id`. ARGV: prefix, key hex, body,
/// received at (ms), event type, timestamp, tenant (each `-` for none or
/// `=` then the value), the bound on open entries (empty for none). Returns
/// `{1, id}` for new, `{0, id}` for a duplicate, `{2, open entries}` when
/// refused at the bound.
pub(super) const APPEND: &str = r"
local p = ARGV[1]
if not layout then redis.call('SET', p .. 'layout', 'LAYOUT_VERSION') end
local k = p .. 'k:' .. ARGV[2]
local existing = redis.call('GET', k)
if existing then return {0, tonumber(existing)} end
local limit = tonumber(ARGV[8])
if limit then
  local n = redis.call('HMGET', p .. 'n', 'pending', 'taken')
  local open = (tonumber(n[1]) or 0) + (tonumber(n[2]) or 0)
  if open >= limit then return {2, open} end
end
local id = redis.call('INCR', p .. 'id')
local at = redis.call('XADD', p .. 's', '*', 'origin', id)
redis.call('HSET', p .. 'e:' .. id, 'key', ARGV[2], 'body', ARGV[3], 'received_at', ARGV[4],
  'event_type', ARGV[5], 'timestamp', ARGV[6], 'tenant', ARGV[7], 'state', 'pending', 'attempts', 0,
  'base', 0, 'since', ARGV[4], 'at', at, 'due_at', ARGV[4])
redis.call('SET', k, id)
redis.call('ZADD', p .. 'open', ARGV[4], id)
redis.call('HINCRBY', p .. 'n', 'pending', 1)
redis.call('ZADD', p .. 'all', id, id)
return {1, id}
";

/// Takes up to `max` entries: due retries are queued again, messages idle
/// past the lease (their worker died) are claimed, then new ones read; each
/// taken entry's attempt is counted in the same step, so that a worker
/// whose lease ran out can no longer renew or settle it. ARGV: prefix,
/// consumer, now (ms), lease (ms), max. Returns, per entry: origin,
/// attempts, attempts - base, since, key, body, received_at, tenant (`-`
/// for none, or `=` then the name).
pub(super) const TAKE: &str = r"
local p, consumer, now, lease, max = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local s = p .. 's'
-- The group is made again if it went away (a restore, a FLUSHALL): read
-- from the start, old messages are skipped by the `at` check below.
redis.pcall('XGROUP', 'CREATE', s, 'workers', '0', 'MKSTREAM')
for _, origin in ipairs(redis.call('ZRANGEBYSCORE', p .. 'retry', '-inf', now, 'LIMIT', 0, max)) do
  local at = redis.call('XADD', s, '*', 'origin', origin)
  redis.call('HSET', p .. 'e:' .. origin, 'at', at)
  redis.call('ZREM', p .. 'retry', origin)
end
local messages = {}
-- XAUTOCLAIM looks at 10 x COUNT pending messages a call: the cursor it
-- gives back is kept, so that expired messages behind many held ones are
-- reached by the next calls (it is 0-0 again at the end).
local claimed = redis.call('XAUTOCLAIM', s, 'workers', consumer, lease, redis.call('GET', p .. 'claim') or '0-0', 'COUNT', max)
redis.call('SET', p .. 'claim', claimed[1])
for _, message in ipairs(claimed[2]) do table.insert(messages, message) end
if #messages < max then
  local read = redis.call('XREADGROUP', 'GROUP', 'workers', consumer, 'COUNT', max - #messages, 'STREAMS', s, '>')
  if read then
    for _, message in ipairs(read[1][2]) do table.insert(messages, message) end
  end
end
local taken = {}
for _, message in ipairs(messages) do
  local id, fields = message[1], message[2]
  local origin = fields[2]
  local e = p .. 'e:' .. origin
  local state = redis.call('HGET', e, 'state')
  if (state ~= 'pending' and state ~= 'taken') or redis.call('HGET', e, 'at') ~= id then
    -- Purged, settled, or an older schedule of the entry: nothing to do
    -- (an entry gone without a purge, evicted say, leaves `open` too).
    redis.call('XACK', s, 'workers', id)
    if not state then redis.call('ZREM', p .. 'open', origin) end
  else
    if state == 'pending' then
      redis.call('HINCRBY', p .. 'n', 'pending', -1)
      redis.call('HINCRBY', p .. 'n', 'taken', 1)
    end
    local attempts = redis.call('HINCRBY', e, 'attempts', 1)
    redis.call('HSET', e, 'state', 'taken', 'due_at', now + lease)
    local row = redis.call('HMGET', e, 'base', 'since', 'key', 'body', 'received_at', 'tenant')
    table.insert(taken, {origin, attempts, attempts - tonumber(row[1]), row[2], row[3], row[4], row[5], row[6] or '-'})
  end
end
return taken
";

/// Settles attempts still held: ARGV: prefix, now (ms), retention (ms),
/// then per entry four values: origin, attempt, how (`done`, `retry`,
/// `dead`), and the due time (ms) of a retry; then per entry its reason, in
/// the same order (empty for done).
pub(super) const SETTLE: &str = r"
local p, now, retention = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local count = (#ARGV - 3) / 5
for i = 0, count - 1 do
  local origin, attempt, how, due = ARGV[4 + i * 4], ARGV[5 + i * 4], ARGV[6 + i * 4], ARGV[7 + i * 4]
  local reason = ARGV[4 + count * 4 + i]
  local e = p .. 'e:' .. origin
  local row = redis.call('HMGET', e, 'state', 'attempts', 'at', 'key')
  if row[1] == 'taken' and row[2] == attempt then
    redis.call('XACK', p .. 's', 'workers', row[3])
    redis.call('HINCRBY', p .. 'n', 'taken', -1)
    if how == 'done' then
      redis.call('HSET', e, 'state', 'done', 'settled_at', now)
      redis.call('HDEL', e, 'reason', 'due_at')
      redis.call('ZADD', p .. 'done', now, origin)
      redis.call('PEXPIRE', e, retention)
      redis.call('PEXPIRE', p .. 'k:' .. row[4], retention)
      redis.call('ZREM', p .. 'open', origin)
    elseif how == 'retry' then
      redis.call('HSET', e, 'state', 'pending', 'reason', reason, 'due_at', due)
      redis.call('HINCRBY', p .. 'n', 'pending', 1)
      redis.call('ZADD', p .. 'retry', due, origin)
    else
      redis.call('HSET', e, 'state', 'dead', 'reason', reason, 'settled_at', now)
      redis.call('HDEL', e, 'due_at')
      redis.call('ZADD', p .. 'dead', origin, origin)
      local logged = redis.call('XADD', p .. 'd', '*', 'origin', origin, 'attempts', attempt, 'reason', reason)
      redis.call('HSET', e, 'dead_letter', logged)
      redis.call('ZREM', p .. 'open', origin)
    end
  end
end
return count
";

/// Extends the leases of attempts still held: ARGV: prefix, consumer, now
/// (ms), lease (ms), then origin and attempt pairs.
pub(super) const RENEW: &str = r"
local p, consumer, now, lease = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 5, #ARGV, 2 do
  local e = p .. 'e:' .. ARGV[i]
  local row = redis.call('HMGET', e, 'state', 'attempts', 'at')
  if row[1] == 'taken' and row[2] == ARGV[i + 1] then
    redis.call('XCLAIM', p .. 's', 'workers', consumer, 0, row[3], 'JUSTID')
    redis.call('HSET', e, 'due_at', now + lease)
  end
end
return 1
";

/// Counts: pending, taken, done (within the retention: older ones have
/// expired and wait for the purge), dead, and the oldest open entry's
/// `since` (ms; -1 if none). An entry of `P open` that is no longer open
/// (its hash evicted or deleted by hand) is dropped from it, up to 100 a
/// call, so that a lost entry cannot hold the age up for ever. ARGV:
/// prefix, the oldest settled time (ms) still kept.
pub(super) const STATS: &str = r"
local p = ARGV[1]
local n = redis.call('HMGET', p .. 'n', 'pending', 'taken')
local oldest = -1
for _ = 1, 100 do
  local first = redis.call('ZRANGE', p .. 'open', 0, 0, 'WITHSCORES')
  if #first == 0 then break end
  local state = redis.call('HGET', p .. 'e:' .. first[1], 'state')
  if state == 'pending' or state == 'taken' then
    oldest = tonumber(first[2])
    break
  end
  redis.call('ZREM', p .. 'open', first[1])
end
return {tonumber(n[1] or 0), tonumber(n[2] or 0), redis.call('ZCOUNT', p .. 'done', ARGV[2], '+inf'),
  redis.call('ZCARD', p .. 'dead'), oldest}
";

/// Up to `limit` entries numbered after `after`, in a state or any (`*`),
/// oldest first: dead letters from their own index, others by walking
/// `P all`, at most 2,000 entries a call (a script holds Redis meanwhile:
/// the caller calls again from where this one stopped). ARGV: prefix,
/// after, state, limit. Returns the last number looked at, 1 if `P all` has
/// no more, and per entry found its number then its hash as field-value
/// pairs (without the body).
pub(super) const LIST: &str = r"
local p, last, wanted, limit = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local index = p .. 'all'
if wanted == 'dead' then index = p .. 'dead' end
local found, looked, finished = {}, 0, 0
while #found < limit and looked < 2000 do
  local ids = redis.call('ZRANGEBYSCORE', index, '(' .. last, '+inf', 'LIMIT', 0, 200)
  if #ids == 0 then finished = 1 break end
  for _, id in ipairs(ids) do
    last = id
    looked = looked + 1
    local e = p .. 'e:' .. id
    local state = redis.call('HGET', e, 'state')
    if not state then
      redis.call('ZREM', index, id)
    elseif wanted == '*' or state == wanted then
      -- Every field but the body, and the body's length without loading it.
      local names = {'key', 'received_at', 'event_type', 'timestamp', 'tenant', 'state', 'attempts', 'due_at', 'reason',
        'settled_at'}
      local values = redis.call('HMGET', e, unpack(names))
      local row = {id, 'size', tostring(redis.call('HSTRLEN', e, 'body'))}
      for i, name in ipairs(names) do
        if values[i] then
          table.insert(row, name)
          table.insert(row, values[i])
        end
      end
      table.insert(found, row)
      if #found == limit then break end
    end
  end
end
return {tostring(last), finished, found}
";

/// Makes dead (or done) entries pending again on a new schedule. ARGV:
/// prefix, now (ms), then either one id (returns 1 or 0), or `*dead`, a
/// count and a number: the dead letters numbered after it, up to the count
/// (returns how many were replayed, the last number looked at, and how
/// many were looked at, so that the caller goes on from there: an entry
/// replayed here that dies again meanwhile is not replayed twice). A
/// number in the dead letters' index whose entry is gone or not dead is
/// dropped from it.
pub(super) const REPLAY: &str = r"
local p, now = ARGV[1], ARGV[2]
local ids = {}
local all = ARGV[3] == '*dead'
if all then
  ids = redis.call('ZRANGEBYSCORE', p .. 'dead', '(' .. ARGV[5], '+inf', 'LIMIT', 0, tonumber(ARGV[4]))
else
  ids = {ARGV[3]}
end
local replayed, last = 0, ARGV[5]
for _, origin in ipairs(ids) do
  last = origin
  local e = p .. 'e:' .. origin
  local row = redis.call('HMGET', e, 'state', 'attempts', 'key', 'dead_letter')
  if row[1] == 'dead' or row[1] == 'done' then
    if row[4] then redis.call('XDEL', p .. 'd', row[4]) end
    local at = redis.call('XADD', p .. 's', '*', 'origin', origin)
    redis.call('HSET', e, 'state', 'pending', 'at', at, 'base', row[2], 'since', now, 'due_at', now)
    redis.call('HDEL', e, 'settled_at', 'dead_letter')
    redis.call('PERSIST', e)
    redis.call('PERSIST', p .. 'k:' .. row[3])
    redis.call('ZREM', p .. 'done', origin)
    redis.call('ZREM', p .. 'dead', origin)
    redis.call('HINCRBY', p .. 'n', 'pending', 1)
    redis.call('ZADD', p .. 'open', now, origin)
    replayed = replayed + 1
  elseif all then
    redis.call('ZREM', p .. 'dead', origin)
  end
end
if all then return {replayed, tostring(last), #ids} end
return replayed
";

/// Deletes up to `limit` done entries settled before a time (a purge of
/// millions in one script would hold Redis for seconds: the caller calls
/// again while it gets `limit`), trims the stream of messages every worker
/// has acknowledged, and deletes consumers (workers of processes gone)
/// that hold nothing and were idle for a day. ARGV: prefix, before (ms),
/// limit. Returns how many entries.
pub(super) const PURGE: &str = r"
local p, before, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local s = p .. 's'
redis.pcall('XGROUP', 'CREATE', s, 'workers', '0', 'MKSTREAM')
local old = redis.call('ZRANGEBYSCORE', p .. 'done', '-inf', '(' .. before, 'LIMIT', 0, limit)
for _, origin in ipairs(old) do
  local e = p .. 'e:' .. origin
  local key = redis.call('HGET', e, 'key')
  if key and redis.call('GET', p .. 'k:' .. key) == origin then redis.call('DEL', p .. 'k:' .. key) end
  redis.call('DEL', e)
  redis.call('ZREM', p .. 'done', origin)
  redis.call('ZREM', p .. 'all', origin)
end
-- Messages before both the oldest unacknowledged one and the group's last
-- delivered one are acknowledged: no entry needs them.
local keep = nil
for _, group in ipairs(redis.call('XINFO', 'GROUPS', s)) do
  for i = 1, #group, 2 do
    if group[i] == 'last-delivered-id' then keep = group[i + 1] end
  end
end
local pending = redis.call('XPENDING', s, 'workers')
if pending[2] then
  local a_ms, a_seq = string.match(pending[2], '^(%d+)-(%d+)$')
  local b_ms, b_seq = string.match(keep or '0-0', '^(%d+)-(%d+)$')
  if tonumber(a_ms) < tonumber(b_ms) or (a_ms == b_ms and tonumber(a_seq) < tonumber(b_seq)) then keep = pending[2] end
end
if keep then redis.call('XTRIM', s, 'MINID', keep) end
-- Each process's workers are a consumer of their own: a restart leaves
-- the old one behind, and XAUTOCLAIM has moved what it held.
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', s, 'workers')) do
  local fields = {}
  for i = 1, #consumer, 2 do fields[consumer[i]] = consumer[i + 1] end
  if fields['pending'] == 0 and fields['idle'] > 86400000 then
    redis.call('XGROUP', 'DELCONSUMER', s, 'workers', fields['name'])
  end
end
return #old
";
