-- W5 on cqueues: a controller running one coroutine per connection, each
-- straight-line code (a socket call that would block yields to the
-- controller). Mode 'bn' (no output buffering); read(-n) returns what is
-- there, up to n bytes.
local cqueues = require 'cqueues'
local cs = require 'cqueues.socket'

local CONNS = assert(tonumber(os.getenv('BENCH_CONNS')), 'BENCH_CONNS not set')
local READ_SIZE = 4096 -- as the C server (bench/c/w5_server.c)

local function must(h, what, v, err)
  if v == nil then h.fail('%s: %s', what, tostring(err)) end
  return v
end

return function(h, echoes)
  local srv = must(h, 'listen', cs.listen { host = '127.0.0.1', port = 0 })
  must(h, 'listen', srv:listen())
  local _, _, port = srv:localname()
  h.connect(port, echoes)
  local want = echoes * h.MSG
  local bytes, t0, t = 0, nil, nil
  local cq = cqueues.new()

  local function serve(conn)
    conn:setmode('bn', 'bn')
    while true do
      local s, err = conn:read(-READ_SIZE)
      if not s then
        if err then h.fail('read: %s', tostring(err)) end
        break -- the client closed
      end
      local n = #s
      if not conn:write(s) then h.fail('write failed') end
      bytes = bytes + n
      if bytes == want then t = h.now() - t0 end
    end
    conn:close()
  end

  cq:wrap(function()
    for i = 1, CONNS do
      local conn, err = srv:accept()
      if not conn then h.fail('accept #%d: %s', i, tostring(err)) end
      if i == 1 then t0 = h.now() end
      cq:wrap(serve, conn)
    end
    srv:close()
  end)
  must(h, 'cqueues loop', cq:loop())
  if bytes ~= want then h.fail('echoed %d bytes, expected %d', bytes, want) end
  return t, bytes / h.MSG
end
