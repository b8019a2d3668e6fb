// net.h from C++: it declares its functions with C linkage, so a C++
// program links against libnet (without the guard every call was an
// undefined reference to a C++-mangled name). One call of each kind.
#include "net.h"

#include <cstdio>
#include <cstring>

#include <sys/socket.h>

int main()
{
    if (net_version() != NET_VERSION_NUMBER) {
        std::printf("net_version %d, header %d\n", net_version(), NET_VERSION_NUMBER);
        return 1;
    }
    int fds[2];
    if (net_sock_pair(AF_UNIX, SOCK_STREAM, 0, NET_CLOEXEC, fds) < 0)
        return 1;
    char buf[4];
    if (net_sock_send(fds[0], "abc", 3, 0) != 3 || net_sock_recv(fds[1], buf, sizeof buf, 0) != 3 ||
        std::memcmp(buf, "abc", 3) != 0)
        return 1;
    std::printf("%s\n", net_strerror(-9));
    return net_sock_close(fds[0]) < 0 || net_sock_close(fds[1]) < 0;
}
