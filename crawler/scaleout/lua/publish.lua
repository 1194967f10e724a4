-- KEYS: next, delay; ARGV: delay ms — robots.txt just read: share the delay, and end the hold of claim
local d = tonumber(ARGV[1])
redis.call('SET', KEYS[2], d, 'EX', 3600)
redis.call('SET', KEYS[1], now + d, 'PX', d + 60000)
return 1
