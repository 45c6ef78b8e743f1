# `cmake --install` layout: bin/ (daemons, worker, CLI), lib/ (libglint and
# its common library), include/glint/, lib/cmake/Glint (find_package(Glint)).
# The package file defines the imported target by hand: libglint's internal
# dependencies stay private to it and need not be found by users.
include(CMakePackageConfigHelpers)
install(TARGETS glint glint_common LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS glint-gcs glint-raylet glint-worker glint-dashboard glint-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY client/include/glint DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
configure_package_config_file(cmake/GlintConfig.cmake.in ${CMAKE_BINARY_DIR}/GlintConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Glint
  PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/GlintConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/GlintConfig.cmake ${CMAKE_BINARY_DIR}/GlintConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Glint)

# systemd units (lib/systemd/system) with the bin/ of the prefix they are
# installed to (`cmake --install --prefix` decides it then), and their
# environment file's template (share/glint/glint.env): deploy/systemd.
foreach(unit glint-gcs.service glint-raylet.service glint-dashboard.service)
  install(CODE "
    set(GLINT_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
    set(GLINT_DOCDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}/glint\")
    set(out \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/systemd/system/${unit}\")
    message(STATUS \"Installing: \${out}\")
    configure_file(\"${PROJECT_SOURCE_DIR}/deploy/systemd/${unit}.in\" \"\${out}\" @ONLY)")
endforeach()
install(FILES deploy/systemd/glint.env README.md DESTINATION ${CMAKE_INSTALL_DATADIR}/glint)
