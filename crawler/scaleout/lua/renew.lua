-- KEYS: lease_expiry, workers; ARGV: lease ms, worker id, lease ids… (XX: a lease already re-queued stays gone)
local expiry = now + tonumber(ARGV[1])
redis.call('ZADD', KEYS[2], expiry, ARGV[2])
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[i]) end
return 1
