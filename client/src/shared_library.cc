// libglint.so is glint_core linked whole, showing only what GLINT_EXPORT
// marks (see client/CMakeLists.txt); this file gives the target a source.
#include "glint/api.h"
