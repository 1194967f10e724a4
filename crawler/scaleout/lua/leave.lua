-- KEYS: run pointer; ARGV: run key base, run id, worker id, finished? → 1 if this worker ended the run
local b = ARGV[1]
redis.call('ZREM', b .. ':workers', ARGV[3])
redis.call('ZREMRANGEBYSCORE', b .. ':workers', '-inf', now)
if ARGV[4] == '1' and redis.call('ZCARD', b .. ':workers') == 0 and redis.call('ZCARD', b .. ':requests') == 0
   and redis.call('HLEN', b .. ':leases') == 0 then
  redis.call('DEL', b .. ':requests', b .. ':dupefilter', b .. ':leases', b .. ':lease_expiry', b .. ':workers')
  if redis.call('GET', KEYS[1]) == ARGV[2] then redis.call('DEL', KEYS[1]) end
  return 1
end
return 0
