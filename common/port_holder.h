// Which process listens on a TCP port of this machine, to say so when a
// daemon cannot take its port: read from /proc/net/tcp{,6} (the listening
// socket's inode) and /proc/PID/fd (whose socket it is). Sees what this
// process may read (all of it as root; the user's own processes otherwise).
#pragma once
#include <string>

namespace glint {

// "NAME (pid N)" of a process listening on `port`, or "" when none is found.
std::string PortHolder(int port);

}  // namespace glint
