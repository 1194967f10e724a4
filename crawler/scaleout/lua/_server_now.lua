-- Prepended to the scripts that need the time: the Redis server's clock, so all workers agree on "now" (ms).
local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
