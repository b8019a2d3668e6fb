/*
 * Stands in for OpenResty's patched OpenSSL, whose libssl has
 * SSL_magic_pending_session_ptr (ngx_lua lets ssl_session_fetch_by_lua
 * yield only when built with it): spec/lua/openresty_phase_spec.lua
 * preloads this module into a child interpreter (NET_PENDING_SESSION_SHIM,
 * spec/meson.build), where net.openresty must then count that phase
 * yieldable. Never called.
 */
void *SSL_magic_pending_session_ptr(void);

void *SSL_magic_pending_session_ptr(void)
{
    return 0;
}
