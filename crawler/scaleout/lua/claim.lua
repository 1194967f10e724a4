-- KEYS: next, delay; ARGV: hold ms, delay ms or -1 (unknown here) → {ms to wait, 0 = go; the site's delay ms or
-- -1 while nobody has read its robots.txt: then this caller holds the site until it shares the delay}
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if now < nxt then return {nxt - now, -1} end
local d = tonumber(ARGV[2])
if d < 0 then d = tonumber(redis.call('GET', KEYS[2]) or '-1') end
local pace = d
if d < 0 then pace = tonumber(ARGV[1]) end
if pace > 0 then redis.call('SET', KEYS[1], now + pace, 'PX', pace + 60000) end
return {0, d}
