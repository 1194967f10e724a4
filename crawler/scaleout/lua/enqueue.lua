-- KEYS: dupefilter, queue; ARGV: fingerprint ('' = not filtered), priority score, request → 1 queued, 0 seen before.
-- One step: a worker killed between marking a request seen and queueing it would otherwise lose it for the run.
if ARGV[1] ~= '' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], tonumber(ARGV[2]), ARGV[3])
return 1
