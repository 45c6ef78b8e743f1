# Makes a C++ source that holds a web asset as a string, so the dashboard
# serves it from its own binary (no files to install, no CDN):
#   cmake -DIN=index.html -DOUT=index_html.cc -DNAME=kIndexHtml -P embed.cmake
file(READ "${IN}" content)
string(FIND "${content}" ")glint_asset" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} holds ')glint_asset', which ends the raw string it is embedded in")
endif()
file(WRITE "${OUT}" "// Generated from ${IN} by embed.cmake; edit that file instead.\n"
  "namespace glint::dashboard {\nextern const char ${NAME}[];\n"
  "const char ${NAME}[] = R\"glint_asset(${content})glint_asset\";\n}  // namespace glint::dashboard\n")
