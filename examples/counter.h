// A counter actor shared by the named-actor examples: both drivers are built
// from this header, so they agree on the class and its registered names.
#pragma once
#include <glint/api.h>

#include <string>

class Counter {
 public:
  static Counter* Create(std::string label, int start) { return new Counter(std::move(label), start); }
  int Increment(int by) { return n_ += by; }
  int Get() const { return n_; }
  std::string Describe() const { return label_ + " = " + std::to_string(n_); }

 private:
  Counter(std::string label, int start) : label_(std::move(label)), n_(start) {}
  std::string label_;
  int n_;
};

GLINT_REMOTE(Counter::Create, &Counter::Increment, &Counter::Get, &Counter::Describe);
