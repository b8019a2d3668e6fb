/*
 * resident.c — net.capi stays loaded for the life of the process.
 *
 * Lua unloads a C module when the handle package.loadlib keeps of it is
 * collected. Lua 5.1 and LuaJIT keep one userdata per library, collected at
 * exit (lua_close) in the reverse order of their making: before any object
 * made earlier than `require('net')`, whose finalizer may still close a
 * socket. Its guard's __gc is code of this module (and libnet's, which it
 * loaded): a call into it after the unload jumps into unmapped memory. One
 * more reference of the dynamic loader's, never dropped, keeps both mapped.
 * (Lua 5.2+ unloads its C modules after every other finalizer; the
 * reference does no harm there.)
 */
#define _GNU_SOURCE 1 /* dladdr */
#include <dlfcn.h>

#include "capi.h"

static const char self_marker = 0; /* an address inside this module */

void net__capi_stay_loaded(void)
{
    Dl_info info;
    if (dladdr(&self_marker, &info) != 0 && info.dli_fname != NULL)
        (void)dlopen(info.dli_fname, RTLD_NOW); /* never dlclose'd */
}
