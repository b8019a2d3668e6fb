-- W5 only: a server on net.poll and bare coroutines, without net.loop
-- (bench/lua/w5/netpoll.lua), the measure of what the loop adds.
return {}
