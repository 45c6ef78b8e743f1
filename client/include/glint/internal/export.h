// GLINT_EXPORT marks what libglint.so shows its users: the public API and
// the functions its templates call. Everything else in the library is hidden.
#pragma once

#define GLINT_EXPORT __attribute__((visibility("default")))
