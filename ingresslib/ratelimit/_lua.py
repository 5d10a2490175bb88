"""The algorithms of `_algorithms.py` as Redis Lua scripts (text only: no redis import here).

Each script runs atomically on the server: one `EVALSHA` per decision. It reads the time with
`TIME` (so replicas whose clocks disagree still share one clock), unless ARGV[1] carries a time
(tests replay hand-made sequences that way). Lua numbers are doubles: every value stays an
integer below 2**52, and `idiv` corrects the rounding of `a / b`, so the scripts compute the
very integers the Python code computes.

KEYS[1]: the key. ARGV: now (µs, or "" for the server's TIME), cost, max_delay_us (-1: no
bound), then the algorithm's `lua_args()`. The reply is one simple string of six integers,
"allowed (1/0) delay_us retry_us (-1: never) remaining reset_us reason_code" (one line to
read, where an array of six integers is seven). A key expires one second after its state
becomes the same as no state (`expires_at`): idle keys cost nothing, and expiry never changes
a decision (the second of slack keeps it so even when the time a script is given runs ahead
of Redis' own clock, as in tests that replay a sequence).
"""

from __future__ import annotations

import hashlib

__all__ = ["SCRIPTS", "sha1"]

_PRELUDE = r"""
if redis.replicate_commands then redis.replicate_commands() end
local function idiv(a, b)
  local q = math.floor(a / b)
  local r = a - q * b
  if r < 0 then q = q - 1 elseif r >= b then q = q + 1 end
  return q
end
local function cdiv(a, b) return -idiv(-a, b) end
-- PERF: '%d' (a C long) formats ~0.5 us a call faster than '%.0f'; values are integers < 2^52.
local function num(x) return string.format('%d', x) end
local function reply(allowed, delay, retry, remaining, reset, code)
  return redis.status_reply(string.format('%d %d %d %d %d %d',
    allowed, delay, retry, remaining, reset, code))
end
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[1])
end
local cost = tonumber(ARGV[2])
local max_delay = tonumber(ARGV[3])
local key = KEYS[1]
local function store(value, expires_at)
  redis.call('SET', key, value, 'PX', math.max(0, cdiv(expires_at - now, 1000)) + 1000)
end
local stored = redis.call('GET', key)
"""

_GCRA = r"""
local interval, tau, burst = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local tat = now
if stored then
  local s = tonumber(stored)
  if s >= now then tat = s end
end
if cost > burst then
  return reply(0, 0, -1, math.max(0, idiv(now + tau - tat, interval)), tat - now, 2)
end
local new_tat = tat + cost * interval
local wait = new_tat - tau - now
if wait > 0 and not (max_delay == -1 or wait <= max_delay) then
  local code = 1
  if max_delay ~= 0 then code = 3 end
  local tokens = math.max(0, idiv(now + tau - tat, interval))
  return reply(0, 0, wait - max_delay, tokens, tat - now, code)
end
store(num(new_tat), new_tat)
return reply(1, math.max(0, wait), 0, math.max(0, idiv(now + tau - new_tat, interval)),
        new_tat - now, 0)
"""

_LIMIT_REQ = r"""
local rate, burst, delay_thr = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local now_ms = idiv(now, 1000)
local drained, ms, last, old_excess = -1000, 0, now_ms, 0
if stored then
  local e, l = string.match(stored, '^(%S+) (%S+)$')
  old_excess, last = tonumber(e), tonumber(l)
  ms = now_ms - last
  if ms < -60000 then ms = 1 elseif ms < 0 then ms = 0 end
  if ms >= cdiv(1000 * (old_excess + 1000), rate) then
    drained = -1000
  else
    drained = old_excess - idiv(rate * ms, 1000)
  end
end
local function reset_us(e, l)
  return math.max(0, (l + cdiv(1000 * (e + 1000), rate)) * 1000 - now)
end
local excess = drained + 1000 * cost
if excess > burst then
  local remaining = idiv(burst - drained, 1000)
  if 1000 * (cost - 1) > burst then return reply(0, 0, -1, remaining, 0, 2) end
  local at_ms = last + cdiv(1000 * (old_excess - (burst - 1000 * cost)), rate)
  return reply(0, 0, at_ms * 1000 - now, remaining, reset_us(old_excess, last), 1)
end
local delay_ms = 0
if excess > delay_thr then delay_ms = idiv((excess - delay_thr) * 1000, rate) end
if max_delay ~= -1 and delay_ms * 1000 > max_delay then
  local reset = 0
  if stored then reset = reset_us(old_excess, last) end
  return reply(0, 0, delay_ms * 1000 - max_delay, 0, reset, 3)
end
local new_last = last
if ms ~= 0 or not stored then new_last = now_ms end
store(num(excess) .. ' ' .. num(new_last), (new_last + cdiv(1000 * (excess + 1000), rate)) * 1000)
return reply(1, delay_ms * 1000, 0, idiv(burst - excess, 1000), reset_us(excess, new_last), 0)
"""

_FIXED_WINDOW = r"""
local limit, period = tonumber(ARGV[4]), tonumber(ARGV[5])
local ending, count, reset = now + period, 0, 0
if stored then
  local e, c = string.match(stored, '^(%S+) (%S+)$')
  e = tonumber(e)
  if now < e then ending, count, reset = e, tonumber(c), e - now end
end
if cost > limit then return reply(0, 0, -1, limit - count, reset, 2) end
if count + cost > limit then return reply(0, 0, ending - now, limit - count, reset, 1) end
count = count + cost
store(num(ending) .. ' ' .. num(count), ending)
return reply(1, 0, 0, limit - count, ending - now, 0)
"""

_SLIDING_WINDOW = r"""
local limit, period = tonumber(ARGV[4]), tonumber(ARGV[5])
local window = idiv(now, period)
local current, previous = 0, 0
if stored then
  local i, c, p = string.match(stored, '^(%S+) (%S+) (%S+)$')
  i, c, p = tonumber(i), tonumber(c), tonumber(p)
  if window <= i then
    window, current, previous = i, c, p
  elseif window == i + 1 then
    previous = c
  end
end
local elapsed = math.max(0, now - window * period)
local function wait(bound)
  if current < bound then
    if previous == 0 then return 0 end
    local at = period - idiv((bound - current) * period - 1, previous)
    return math.max(0, at - elapsed)
  end
  local at = period - idiv(bound * period - 1, current)
  return period - elapsed + math.max(0, at)
end
local weighted = idiv(previous * (period - elapsed), period) + current
if cost > limit then return reply(0, 0, -1, math.max(0, limit - weighted), wait(1), 2) end
if weighted + cost > limit then
  return reply(0, 0, wait(limit - cost + 1), math.max(0, limit - weighted), wait(1), 1)
end
current = current + cost
store(num(window) .. ' ' .. num(current) .. ' ' .. num(previous), (window + 2) * period)
return reply(1, 0, 0, limit - weighted - cost, wait(1), 0)
"""

#: Script text by algorithm tag.
SCRIPTS: dict[str, str] = {
    "gcra": _PRELUDE + _GCRA,
    "req": _PRELUDE + _LIMIT_REQ,
    "fw": _PRELUDE + _FIXED_WINDOW,
    "sw": _PRELUDE + _SLIDING_WINDOW,
}


def sha1(script: str) -> str:
    """The SHA1 digest Redis names a script by (`EVALSHA`, `SCRIPT LOAD`)."""
    return hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
