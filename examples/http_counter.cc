// http_counter: an async actor with its own HTTP endpoint beside its Glint
// methods. Prints the port, adds through Glint and through HTTP, and shows
// both see one counter. Try: curl localhost:PORT/count; curl -d 5 localhost:PORT/add
#include <iostream>

#include "http_counter.h"

int main(int argc, char** argv) {
  glint::Init(argc, argv);
  auto counter = glint::Actor(HttpCounter::Create).Remote();
  int port = counter.Task(&HttpCounter::Port).Remote().Get();
  std::cout << "HttpCounter serves http://127.0.0.1:" << port << "\n";
  std::cout << "Glint Add(2) -> " << counter.Task(&HttpCounter::Add).Remote(2).Get() << "\n";
  std::cout << "HTTP POST /add 5 -> " << HttpRequest(port, "POST", "/add", "5") << "\n";
  std::cout << "HTTP GET /count -> " << HttpRequest(port, "GET", "/count", "") << "\n";
  std::cout << "Glint Count() -> " << counter.Task(&HttpCounter::Count).Remote().Get() << "\n";
  glint::Shutdown();
  return 0;
}
