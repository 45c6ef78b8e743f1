#!/bin/bash
# Compiling user code against Glint's headers: a type that crosses
# processes without MSGPACK_DEFINE is one clear error naming the fix (not
# msgpack's page of template errors), in a container too; with
# MSGPACK_DEFINE, or msgpack adaptors declared with glint::kMsgpackAdaptor,
# it compiles.
# Usage: user_types_test.sh CXX INCLUDE_DIR
set -u
CXX=$1
INCLUDE=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# compile NAME BODY: writes a program using the type Point as a task's
# argument and result, compiles it (syntax only); its output in $work/NAME.out.
compile() {
  cat > "$work/$1.cc" <<CODE
#include <glint/api.h>
#include <vector>
$2
GLINT_REMOTE(Use);
int main() { return glint::Task(Use).Remote(Arg{}).Get() == Arg{} ? 0 : 1; }
CODE
  "$CXX" -std=c++20 -fsyntax-only -DMSGPACK_NO_BOOST -I "$INCLUDE" "$work/$1.cc" > "$work/$1.out" 2>&1
}

expect_clear_error() {
  compile "$1" "$2" && fail "$1: compiled, but msgpack cannot pack its type"
  first=$(grep -m1 'error' "$work/$1.out")
  echo "$first" | grep -q 'add MSGPACK_DEFINE' || fail "$1: the first error is not Glint's: $first"
  others=$(grep 'error:' "$work/$1.out" | grep -vc 'add MSGPACK_DEFINE')
  [ "$others" = 0 ] || fail "$1: $others errors besides Glint's one: $(grep 'error:' "$work/$1.out" | grep -v MSGPACK_DEFINE | head -3)"
  echo "ok: $1: $first" | cut -c1-200
}
expect_compiles() {
  compile "$1" "$2" || { head -20 "$work/$1.out"; fail "$1: did not compile"; }
  echo "ok: $1 compiles"
}

expect_clear_error plain_struct '
struct Point { int x, y; bool operator==(const Point&) const = default; };
using Arg = Point;
Point Use(Point p) { return p; }'

expect_clear_error in_a_vector '
struct Point { int x, y; bool operator==(const Point&) const = default; };
using Arg = std::vector<Point>;
Arg Use(Arg p) { return p; }'

expect_compiles with_msgpack_define '
struct Point { int x, y; bool operator==(const Point&) const = default; MSGPACK_DEFINE(x, y); };
using Arg = std::vector<Point>;
Arg Use(Arg p) { return p; }'

expect_compiles with_own_adaptor '
struct Point { int x, y; bool operator==(const Point&) const = default; };
namespace msgpack { MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) { namespace adaptor {
template <> struct convert<Point> {
  const msgpack::object& operator()(const msgpack::object& o, Point& p) const {
    auto a = o.as<std::pair<int, int>>(); p.x = a.first; p.y = a.second; return o; }
};
template <> struct pack<Point> {
  template <typename S> packer<S>& operator()(packer<S>& o, const Point& p) const {
    return o.pack(std::make_pair(p.x, p.y)); }
};
}}}
template <> inline constexpr bool glint::kMsgpackAdaptor<Point> = true;
using Arg = Point;
Point Use(Point p) { return p; }'
echo "PASS"
