-- KEYS: run pointer; ARGV: candidate run id (or the forced one), group key base, worker id, lease ms, forced?,
-- run ttl ms — the pointer expires unless a live worker refreshes it (keep_alive): a dead run is not joined later
local run = ARGV[1]
if ARGV[5] ~= '1' then
  redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', tonumber(ARGV[6]))
  run = redis.call('GET', KEYS[1])
end
redis.call('ZADD', ARGV[2] .. ':' .. run .. ':workers', now + tonumber(ARGV[4]), ARGV[3])
return run
