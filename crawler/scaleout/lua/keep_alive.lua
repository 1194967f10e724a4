-- KEYS: run pointer, the run's keys…; ARGV: run id, ttl ms — a live worker's heartbeat keeps the run's keys (and
-- the pointer, while it still names this run) from expiring; once every worker is gone they all expire
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2])) end
for i = 2, #KEYS do redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2])) end
return 1
