-- KEYS: queue, leases, lease_expiry, workers → how many expired leases went back to the queue
local n = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)) do
  local v = redis.call('HGET', KEYS[2], id)
  if v then
    local sep = string.find(v, '|', 1, true)
    redis.call('ZADD', KEYS[1], tonumber(string.sub(v, 1, sep - 1)), string.sub(v, sep + 1))
    redis.call('HDEL', KEYS[2], id)
    n = n + 1
  end
  redis.call('ZREM', KEYS[3], id)
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
return n
